import { useEffect, useState } from "preact/hooks";
import type { Invitation, Session } from "../../../shared/model.ts";
import { api, errorText } from "../lib/api.ts";
import { useI18n } from "../lib/i18n.ts";
import { Dialog } from "../ui/Dialog.tsx";
import { Outcome } from "../ui/Messages.tsx";
import { InvitationView } from "./InvitationView.tsx";

export function PinDialog(props: { session: Session; onClose: () => void }) {
  const { t } = useI18n();
  const [invitation, setInvitation] = useState<Invitation | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api
      .invitation(props.session.id)
      .then(setInvitation)
      .catch((failure: unknown) => setError(errorText(failure)));
  }, [props.session.id]);
  const name = props.session.name === "" ? t("unnamed") : props.session.name;
  return (
    <Dialog title={t("pin.title", { session: name })} onClose={props.onClose}>
      {invitation === null ? <Outcome error={error} /> : <InvitationView invitation={invitation} />}
      <div class="buttons">
        <button type="button" class="primary" onClick={props.onClose}>
          {t("dialog.done")}
        </button>
      </div>
    </Dialog>
  );
}
