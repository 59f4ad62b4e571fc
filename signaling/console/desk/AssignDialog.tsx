import { useState } from "preact/hooks";
import type { Session, Technician } from "../../../shared/model.ts";
import { api } from "../lib/api.ts";
import { useI18n } from "../lib/i18n.ts";
import { mayShare } from "../lib/session-actions.ts";
import { Dialog } from "../ui/Dialog.tsx";
import { Outcome } from "../ui/Messages.tsx";
import { useAction } from "../ui/use-action.ts";
import { TechnicianSelect, usableTechnicians } from "./TechnicianSelect.tsx";

/** Assign or reassign; without the share permission a technician can only take the session. */
export function AssignDialog(props: {
  session: Session;
  me: Technician;
  technicians: readonly Technician[];
  onDone: (info: string) => void;
  onClose: () => void;
}) {
  const { t } = useI18n();
  const action = useAction();
  const sharing = mayShare(props.me);
  const choices = sharing
    ? usableTechnicians(props.technicians)
    : usableTechnicians(props.technicians).filter((technician) => technician.id === props.me.id);
  const preferred = choices.find((technician) => technician.id !== props.session.assignee?.id) ?? choices[0];
  const [technicianId, setTechnicianId] = useState(preferred?.id ?? "");
  return (
    <Dialog title={t("assign.title")} onClose={props.onClose}>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void action
            .run(() => api.assign(props.session.id, technicianId))
            .then((ok) => ok && props.onDone(t("done.assign")));
        }}
      >
        {!sharing && <p class="hint">{t("assign.onlyMe")}</p>}
        <TechnicianSelect
          label={t("assign.technician")}
          technicians={choices}
          value={technicianId}
          onChange={setTechnicianId}
        />
        <Outcome error={action.error} />
        <div class="buttons">
          <button type="button" onClick={props.onClose}>
            {t("dialog.cancel")}
          </button>
          <button type="submit" class="primary" disabled={action.busy || technicianId === ""}>
            {t("assign.submit")}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
