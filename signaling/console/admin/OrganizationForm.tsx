import { useState } from "preact/hooks";
import { api } from "../lib/api.ts";
import { useI18n } from "../lib/i18n.ts";
import { useStore } from "../lib/store.ts";
import { auth } from "../state/stores.ts";
import { Outcome } from "../ui/Messages.tsx";
import { useAction } from "../ui/use-action.ts";

/** The organization's name: the end user's consent prompt names it. */
export function OrganizationForm() {
  const { t } = useI18n();
  const current = useStore(auth);
  const [name, setName] = useState(current.kind === "signedIn" ? current.me.organization.name : "");
  const action = useAction();
  return (
    <form
      class="admin-form inline-form"
      aria-label={t("admin.organization")}
      onSubmit={(event) => {
        event.preventDefault();
        void action.run(async () => {
          const answer = await api.updateOrganization(name);
          const now = auth.get();
          if (now.kind === "signedIn") {
            auth.set({ kind: "signedIn", me: { ...now.me, organization: answer.organization } });
          }
        }, t("admin.saved"));
      }}
    >
      <label>
        {t("admin.organization")}
        <input
          required
          maxLength={100}
          value={name}
          onInput={(event) => setName(event.currentTarget.value)}
        />
      </label>
      <button type="submit" disabled={action.busy}>
        {t("admin.save")}
      </button>
      <Outcome error={action.error} info={action.info} />
    </form>
  );
}
