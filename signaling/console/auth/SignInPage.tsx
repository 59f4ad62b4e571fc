import { useState } from "preact/hooks";
import { useI18n } from "../lib/i18n.ts";
import { signIn } from "../state/auth.ts";
import { LanguageSwitch } from "../ui/LanguageSwitch.tsx";
import { Outcome } from "../ui/Messages.tsx";
import { NoticeLine } from "../ui/NoticeLine.tsx";
import { useAction } from "../ui/use-action.ts";
import { SetupForm } from "./SetupForm.tsx";

export function SignInPage(props: { setupOpen: boolean }) {
  const { t } = useI18n();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const action = useAction();
  const [setupOpen, setSetupOpen] = useState(props.setupOpen);
  const [setupDone, setSetupDone] = useState(false);
  if (setupOpen) {
    return (
      <main class="sign-in">
        <div class="card">
          <h1>{t("app.title")}</h1>
          <SetupForm
            onDone={() => {
              setSetupOpen(false);
              setSetupDone(true);
            }}
          />
          <LanguageSwitch />
        </div>
      </main>
    );
  }
  return (
    <main class="sign-in">
      <div class="card">
        <h1>{t("app.title")}</h1>
        <NoticeLine />
        <form
          onSubmit={(event) => {
            event.preventDefault();
            void action.run(() => signIn(email, password));
          }}
        >
          <h2>{t("signIn.title")}</h2>
          <label>
            {t("signIn.email")}
            <input
              type="email"
              name="email"
              autocomplete="username"
              required
              value={email}
              onInput={(event) => setEmail(event.currentTarget.value)}
            />
          </label>
          <label>
            {t("signIn.password")}
            <input
              type="password"
              name="password"
              autocomplete="current-password"
              required
              value={password}
              onInput={(event) => setPassword(event.currentTarget.value)}
            />
          </label>
          <Outcome error={action.error} info={setupDone ? t("setup.done") : null} />
          <button type="submit" class="primary" disabled={action.busy}>
            {t("signIn.submit")}
          </button>
        </form>
        <LanguageSwitch />
      </div>
    </main>
  );
}
