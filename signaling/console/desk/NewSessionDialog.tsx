import { useState } from "preact/hooks";
import type { Invitation } from "../../../shared/model.ts";
import { api } from "../lib/api.ts";
import { useI18n } from "../lib/i18n.ts";
import { Dialog } from "../ui/Dialog.tsx";
import { Outcome } from "../ui/Messages.tsx";
import { useAction } from "../ui/use-action.ts";
import { InvitationView } from "./InvitationView.tsx";

export function NewSessionDialog(props: {
  channelId: string;
  channelLabel: string;
  onCreated: (sessionId: string) => void;
  onClose: () => void;
}) {
  const { t } = useI18n();
  const [name, setName] = useState("");
  const [note, setNote] = useState("");
  const [invitation, setInvitation] = useState<Invitation | null>(null);
  const action = useAction();
  const create = (): void => {
    void action.run(async () => {
      const created = await api.createSession({ channelId: props.channelId, name, note });
      setInvitation(created.invitation);
      props.onCreated(created.session.id);
    });
  };
  return (
    <Dialog title={t("newSession.title", { channel: props.channelLabel })} onClose={props.onClose}>
      {invitation === null ? (
        <form
          onSubmit={(event) => {
            event.preventDefault();
            create();
          }}
        >
          <label>
            {t("newSession.name")}
            <input value={name} maxLength={100} onInput={(event) => setName(event.currentTarget.value)} />
          </label>
          <label>
            {t("newSession.note")}
            <textarea
              value={note}
              maxLength={1000}
              rows={3}
              onInput={(event) => setNote(event.currentTarget.value)}
            />
          </label>
          <Outcome error={action.error} />
          <div class="buttons">
            <button type="button" onClick={props.onClose}>
              {t("dialog.cancel")}
            </button>
            <button type="submit" class="primary" disabled={action.busy}>
              {t("newSession.create")}
            </button>
          </div>
        </form>
      ) : (
        <>
          <p>{t("newSession.created")}</p>
          <InvitationView invitation={invitation} />
          <div class="buttons">
            <button type="button" class="primary" onClick={props.onClose}>
              {t("dialog.done")}
            </button>
          </div>
        </>
      )}
    </Dialog>
  );
}
