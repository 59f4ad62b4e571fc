import { LANGUAGES, setLanguage, useI18n } from "../lib/i18n.ts";
import { SelectField } from "./SelectField.tsx";

export function LanguageSwitch() {
  const { t, lang } = useI18n();
  return (
    <SelectField
      label={t("language.label")}
      value={lang}
      onChange={(value) => {
        const picked = LANGUAGES.find((code) => code === value);
        if (picked !== undefined) setLanguage(picked);
      }}
    >
      {LANGUAGES.map((code) => (
        <option key={code} value={code}>
          {t(`language.${code}`)}
        </option>
      ))}
    </SelectField>
  );
}
