import { de } from "./messages.de.ts";
import { en, type MessageKey, type Messages } from "./messages.en.ts";
import { createStore, useStore } from "./store.ts";

/** The console's languages: English and German, following the browser unless the user picked one. */
export const LANGUAGES = ["en", "de"] as const;
export type Language = (typeof LANGUAGES)[number];

const MESSAGES: Readonly<Record<Language, Messages>> = { en, de };
const STORAGE_KEY = "sos.language";

function isLanguage(value: unknown): value is Language {
  return typeof value === "string" && (LANGUAGES as readonly string[]).includes(value);
}

/** The first supported language among the browser's preferences, English otherwise. */
export function languageFromPreferences(preferences: readonly string[]): Language {
  for (const tag of preferences) {
    const primary = tag.toLowerCase().split("-")[0];
    if (isLanguage(primary)) return primary;
  }
  return "en";
}

function storedLanguage(): Language | null {
  try {
    const value = globalThis.localStorage?.getItem(STORAGE_KEY);
    return isLanguage(value) ? value : null;
  } catch {
    return null;
  }
}

function initialLanguage(): Language {
  const preferences = typeof navigator === "undefined" ? [] : navigator.languages;
  return storedLanguage() ?? languageFromPreferences(preferences);
}

export const language = createStore<Language>(initialLanguage());

export function setLanguage(next: Language): void {
  try {
    globalThis.localStorage?.setItem(STORAGE_KEY, next);
  } catch {
    // Private mode or storage disabled: the choice lasts until reload.
  }
  language.set(next);
}

export type Params = Readonly<Record<string, string | number>>;

/** The text for `key` in `lang`, with `{name}` placeholders filled in. */
export function translate(lang: Language, key: MessageKey, params: Params = {}): string {
  return MESSAGES[lang][key].replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = params[name];
    return value === undefined ? whole : String(value);
  });
}

export type Translate = (key: MessageKey, params?: Params) => string;

/** The current language's texts, outside components (notices built in event handlers). */
export function t(key: MessageKey, params?: Params): string {
  return translate(language.get(), key, params);
}

export function useI18n(): { lang: Language; t: Translate; formatTime: (iso: string) => string } {
  const lang = useStore(language);
  return {
    lang,
    t: (key, params) => translate(lang, key, params),
    formatTime: (iso) => formatTime(lang, iso),
  };
}

const timeFormats = new Map<Language, Intl.DateTimeFormat>();

/** A short local date and time, e.g. "25.11.2026, 10:53". */
export function formatTime(lang: Language, iso: string): string {
  let format = timeFormats.get(lang);
  if (format === undefined) {
    format = new Intl.DateTimeFormat(lang, { dateStyle: "short", timeStyle: "short" });
    timeFormats.set(lang, format);
  }
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : format.format(date);
}
