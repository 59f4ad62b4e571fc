/** Stands in for zod's locale index in the browser bundle (see scripts/build-console.ts). */
export { default as en } from "zod/v4/locales/en.js";
