import { LANGUAGES, setLanguage, useI18n } from "../lib/i18n.ts";

export function LanguageSwitch() {
  const { t, lang } = useI18n();
  return (
    <label class="language">
      {t("language.label")}
      <select
        value={lang}
        onChange={(event) => {
          const picked = LANGUAGES.find((code) => code === event.currentTarget.value);
          if (picked !== undefined) setLanguage(picked);
        }}
      >
        {LANGUAGES.map((code) => (
          <option key={code} value={code}>
            {t(`language.${code}`)}
          </option>
        ))}
      </select>
    </label>
  );
}
