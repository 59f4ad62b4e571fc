/**
 * In a packaged agent, Node's deprecation notices about bundled dependencies (DEP0040 punycode,
 * from jimp's fetch under nut-js) would be printed to the end user, who can do nothing about them.
 * The SEA bootstrap silences its own thread and sets SOS_QUIET_DEPRECATIONS; each worker thread
 * has its own `process` and imports this module first to do the same.
 */
export const QUIET_DEPRECATIONS_ENV = "SOS_QUIET_DEPRECATIONS";

if (process.env[QUIET_DEPRECATIONS_ENV] === "1") process.noDeprecation = true;
