import { useState } from "preact/hooks";
import type { Channel, Session, Technician } from "../../../shared/model.ts";
import { api } from "../lib/api.ts";
import { useI18n } from "../lib/i18n.ts";
import { mayShare, transferChannels } from "../lib/session-actions.ts";
import { channelName } from "../ui/channel-name.ts";
import { Dialog } from "../ui/Dialog.tsx";
import { Outcome } from "../ui/Messages.tsx";
import { SelectField } from "../ui/SelectField.tsx";
import { useAction } from "../ui/use-action.ts";
import { TechnicianSelect, usableTechnicians } from "./TechnicianSelect.tsx";

/** To another assignee (needs the share permission) or into another channel (needs its access). */
export function TransferDialog(props: {
  session: Session;
  me: Technician;
  technicians: readonly Technician[];
  channels: readonly Channel[];
  onDone: (info: string) => void;
  onClose: () => void;
}) {
  const { t } = useI18n();
  const action = useAction();
  const people = usableTechnicians(props.technicians).filter(
    (technician) => technician.id !== props.session.assignee?.id,
  );
  const places = transferChannels({ me: props.me, session: props.session, channels: props.channels });
  const sharing = mayShare(props.me);
  const [target, setTarget] = useState<"technician" | "channel">(sharing ? "technician" : "channel");
  const [technicianId, setTechnicianId] = useState(people[0]?.id ?? "");
  const [channelId, setChannelId] = useState(places[0]?.id ?? "");
  const chosen = target === "technician" ? technicianId : channelId;
  return (
    <Dialog title={t("transfer.title")} onClose={props.onClose}>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          const body = target === "technician" ? { technicianId } : { channelId };
          void action
            .run(() => api.transfer(props.session.id, body))
            .then((ok) => ok && props.onDone(t("done.transfer")));
        }}
      >
        <fieldset>
          <legend>{t("transfer.target")}</legend>
          <label class="inline">
            <input
              type="radio"
              name="target"
              checked={target === "technician"}
              onChange={() => setTarget("technician")}
            />
            {t("transfer.toTechnician")}
          </label>
          <label class="inline">
            <input
              type="radio"
              name="target"
              checked={target === "channel"}
              onChange={() => setTarget("channel")}
            />
            {t("transfer.toChannel")}
          </label>
        </fieldset>
        {target === "technician" ? (
          <>
            {!sharing && <p class="hint">{t("transfer.noShare")}</p>}
            <TechnicianSelect
              label={t("transfer.technician")}
              technicians={people}
              value={technicianId}
              onChange={setTechnicianId}
            />
          </>
        ) : (
          <SelectField label={t("transfer.channel")} value={channelId} onChange={setChannelId}>
            {places.map((channel) => (
              <option key={channel.id} value={channel.id}>
                {channelName(channel, t)}
              </option>
            ))}
          </SelectField>
        )}
        <Outcome error={action.error} />
        <div class="buttons">
          <button type="button" onClick={props.onClose}>
            {t("dialog.cancel")}
          </button>
          <button type="submit" class="primary" disabled={action.busy || chosen === ""}>
            {t("transfer.submit")}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
