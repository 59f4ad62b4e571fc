import { render } from "preact";
import { App } from "./app.tsx";
import { language } from "./lib/i18n.ts";
import { loadAuth } from "./state/auth.ts";

/** The technician console: mounts the app and finds out whether this browser is signed in. */
const root = document.getElementById("app");
if (root === null) throw new Error("index.html has no #app element");

const syncDocumentLanguage = (): void => {
  document.documentElement.lang = language.get();
};
syncDocumentLanguage();
language.subscribe(syncDocumentLanguage);

render(<App />, root);
void loadAuth();
