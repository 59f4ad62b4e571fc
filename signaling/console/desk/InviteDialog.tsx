import { useState } from "preact/hooks";
import { MAX_INVITED_TECHNICIANS } from "../../../shared/limits.ts";
import type { Session, Technician } from "../../../shared/model.ts";
import { api } from "../lib/api.ts";
import { useI18n } from "../lib/i18n.ts";
import { isOnSession } from "../lib/session-actions.ts";
import { Dialog } from "../ui/Dialog.tsx";
import { Outcome } from "../ui/Messages.tsx";
import { useAction } from "../ui/use-action.ts";
import { usableTechnicians } from "./TechnicianSelect.tsx";

/** Up to two more technicians (three in all); the gateway enforces the limit and says so. */
export function InviteDialog(props: {
  session: Session;
  technicians: readonly Technician[];
  onDone: (info: string) => void;
  onClose: () => void;
}) {
  const { t } = useI18n();
  const action = useAction();
  const [picked, setPicked] = useState<ReadonlySet<string>>(new Set());
  const candidates = usableTechnicians(props.technicians).filter(
    (technician) => !isOnSession(props.session, technician.id),
  );
  const room = Math.max(0, MAX_INVITED_TECHNICIANS - props.session.invited.length);
  const toggle = (id: string, on: boolean): void => {
    const next = new Set(picked);
    if (on) next.add(id);
    else next.delete(id);
    setPicked(next);
  };
  return (
    <Dialog title={t("invite.title")} onClose={props.onClose}>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void action
            .run(() => api.invite(props.session.id, [...picked]))
            .then((ok) => ok && props.onDone(t("done.invite")));
        }}
      >
        <p class="hint">{t("invite.hint", { count: room })}</p>
        <fieldset>
          <legend>{t("col.invited")}</legend>
          {candidates.map((technician) => (
            <label class="inline" key={technician.id}>
              <input
                type="checkbox"
                checked={picked.has(technician.id)}
                onChange={(event) => toggle(technician.id, event.currentTarget.checked)}
              />
              {technician.name}
            </label>
          ))}
        </fieldset>
        <Outcome error={action.error} />
        <div class="buttons">
          <button type="button" onClick={props.onClose}>
            {t("dialog.cancel")}
          </button>
          <button type="submit" class="primary" disabled={action.busy || picked.size === 0}>
            {t("invite.submit")}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
