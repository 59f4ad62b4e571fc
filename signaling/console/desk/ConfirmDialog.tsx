import type { Session } from "../../../shared/model.ts";
import { api } from "../lib/api.ts";
import { useI18n } from "../lib/i18n.ts";
import { Dialog } from "../ui/Dialog.tsx";
import { Outcome } from "../ui/Messages.tsx";
import { useAction } from "../ui/use-action.ts";

/** Close and Delete cannot be undone, so they ask once more. */
export function ConfirmDialog(props: {
  kind: "close" | "delete";
  session: Session;
  onDone: (info: string) => void;
  onClose: () => void;
}) {
  const { t } = useI18n();
  const action = useAction();
  const { kind, session } = props;
  const confirm = (): void => {
    void action
      .run(() => (kind === "close" ? api.close(session.id) : api.deleteSession(session.id)))
      .then((ok) => ok && props.onDone(t(kind === "close" ? "done.close" : "done.delete")));
  };
  return (
    <Dialog title={t(`confirm.${kind}.title`)} onClose={props.onClose}>
      <p>
        <strong>{session.name === "" ? t("unnamed") : session.name}</strong>
      </p>
      <p>{t(`confirm.${kind}.text`)}</p>
      <Outcome error={action.error} />
      <div class="buttons">
        <button type="button" onClick={props.onClose}>
          {t("dialog.cancel")}
        </button>
        <button type="button" class="primary danger" disabled={action.busy} onClick={confirm}>
          {t(`confirm.${kind}.submit`)}
        </button>
      </div>
    </Dialog>
  );
}
