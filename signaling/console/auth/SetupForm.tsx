import { useState } from "preact/hooks";
import { api } from "../lib/api.ts";
import { useI18n } from "../lib/i18n.ts";
import { Outcome } from "../ui/Messages.tsx";
import { useAction } from "../ui/use-action.ts";

/** First start without SOS_ADMIN_EMAIL: the one-time setup token creates the first administrator. */
export function SetupForm(props: { onDone: () => void }) {
  const { t } = useI18n();
  const [fields, setFields] = useState({ token: "", name: "", email: "", password: "" });
  const action = useAction();
  const field = (key: keyof typeof fields) => ({
    value: fields[key],
    onInput: (event: { currentTarget: HTMLInputElement }) =>
      setFields({ ...fields, [key]: event.currentTarget.value }),
  });
  return (
    <form
      class="setup"
      onSubmit={(event) => {
        event.preventDefault();
        void action.run(() => api.setup(fields)).then((ok) => ok && props.onDone());
      }}
    >
      <h2>{t("setup.title")}</h2>
      <p>{t("setup.intro")}</p>
      <label>
        {t("setup.token")}
        <input required autocomplete="off" {...field("token")} />
      </label>
      <label>
        {t("setup.name")}
        <input required {...field("name")} />
      </label>
      <label>
        {t("signIn.email")}
        <input type="email" required {...field("email")} />
      </label>
      <label>
        {t("signIn.password")}
        <input type="password" required minLength={10} autocomplete="new-password" {...field("password")} />
      </label>
      <Outcome error={action.error} />
      <button type="submit" disabled={action.busy}>
        {t("setup.submit")}
      </button>
    </form>
  );
}
