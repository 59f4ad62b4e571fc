import { useState } from "preact/hooks";
import {
  DEFAULT_FILE_SIZE_LIMIT_MB,
  DEFAULT_RECONFIRM_MINUTES,
  DEFAULT_SESSION_EXPIRY_MINUTES,
  MAX_FILE_SIZE_LIMIT_MB,
  MAX_RECONFIRM_MINUTES,
  MAX_RECORDING_RETENTION_DAYS,
} from "../../../shared/limits.ts";
import type { Channel, Technician } from "../../../shared/model.ts";
import {
  type ChannelRecording,
  DEFAULT_CHANNEL_RECORDING,
  RECORDING_MODES,
} from "../../../shared/recording.ts";
import { useI18n } from "../lib/i18n.ts";
import { Outcome } from "../ui/Messages.tsx";
import { SelectField } from "../ui/SelectField.tsx";
import { useAction } from "../ui/use-action.ts";

export type ChannelFields = {
  name: string;
  sessionExpiryMinutes: number;
  recording: ChannelRecording;
  reconfirmMinutes: number;
  fileSizeLimitMb: number;
  access: string[];
};

/**
 * A team channel's settings: name, session expiry, after how long the end user is asked again
 * whether the session may continue, the largest file a transfer may carry, and who has access.
 * Creates or edits.
 */
export function ChannelForm(props: {
  title: string;
  channel?: Channel;
  technicians: readonly Technician[];
  submitLabel: string;
  onSubmit: (fields: ChannelFields) => Promise<unknown>;
  doneText: string;
}) {
  const { t } = useI18n();
  const action = useAction();
  const initial = (): ChannelFields => ({
    name: props.channel?.name ?? "",
    sessionExpiryMinutes: props.channel?.sessionExpiryMinutes ?? DEFAULT_SESSION_EXPIRY_MINUTES,
    recording: { ...(props.channel?.recording ?? DEFAULT_CHANNEL_RECORDING) },
    reconfirmMinutes: props.channel?.reconfirmMinutes ?? DEFAULT_RECONFIRM_MINUTES,
    fileSizeLimitMb: props.channel?.fileSizeLimitMb ?? DEFAULT_FILE_SIZE_LIMIT_MB,
    access: [...(props.channel?.access ?? [])],
  });
  const [fields, setFields] = useState<ChannelFields>(initial);
  const toggle = (id: string, on: boolean): void =>
    setFields({
      ...fields,
      access: on ? [...fields.access, id] : fields.access.filter((other) => other !== id),
    });
  return (
    <form
      class="admin-form"
      aria-label={props.title}
      onSubmit={(event) => {
        event.preventDefault();
        void action
          .run(() => props.onSubmit(fields), props.doneText)
          .then((ok) => ok && props.channel === undefined && setFields(initial()));
      }}
    >
      <h2>{props.title}</h2>
      <label>
        {t("admin.name")}
        <input
          required
          maxLength={100}
          value={fields.name}
          onInput={(event) => setFields({ ...fields, name: event.currentTarget.value })}
        />
      </label>
      <label>
        {t("admin.channels.expiry")}
        <input
          type="number"
          required
          min={1}
          step={1}
          value={fields.sessionExpiryMinutes}
          onInput={(event) =>
            setFields({ ...fields, sessionExpiryMinutes: Math.trunc(event.currentTarget.valueAsNumber) })
          }
        />
      </label>
      <SelectField
        label={t("admin.channels.recording")}
        value={fields.recording.mode}
        onChange={(value) => {
          const mode = RECORDING_MODES.find((known) => known === value);
          if (mode !== undefined) setFields({ ...fields, recording: { ...fields.recording, mode } });
        }}
      >
        {RECORDING_MODES.map((mode) => (
          <option key={mode} value={mode}>
            {t(`admin.channels.recording.${mode}`)}
          </option>
        ))}
      </SelectField>
      <label>
        {t("admin.channels.retention")}
        <input
          type="number"
          required
          min={1}
          max={MAX_RECORDING_RETENTION_DAYS}
          step={1}
          value={fields.recording.retentionDays}
          onInput={(event) =>
            setFields({
              ...fields,
              recording: {
                ...fields.recording,
                retentionDays: Math.trunc(event.currentTarget.valueAsNumber),
              },
            })
          }
        />
      </label>
      <label>
        {t("admin.channels.reconfirm")}
        <input
          type="number"
          required
          min={0}
          max={MAX_RECONFIRM_MINUTES}
          step={1}
          aria-describedby="reconfirm-hint"
          value={fields.reconfirmMinutes}
          onInput={(event) =>
            setFields({ ...fields, reconfirmMinutes: Math.trunc(event.currentTarget.valueAsNumber) })
          }
        />
      </label>
      <p class="hint" id="reconfirm-hint">
        {t("admin.channels.reconfirmHint")}
      </p>
      <label>
        {t("admin.channels.fileLimit")}
        <input
          type="number"
          required
          min={1}
          max={MAX_FILE_SIZE_LIMIT_MB}
          step={1}
          aria-describedby="file-limit-hint"
          value={fields.fileSizeLimitMb}
          onInput={(event) =>
            setFields({ ...fields, fileSizeLimitMb: Math.trunc(event.currentTarget.valueAsNumber) })
          }
        />
      </label>
      <p class="hint" id="file-limit-hint">
        {t("admin.channels.fileLimitHint", { max: String(MAX_FILE_SIZE_LIMIT_MB) })}
      </p>
      <fieldset>
        <legend>{t("admin.channels.access")}</legend>
        {props.technicians.map((technician) => (
          <label class="inline" key={technician.id}>
            <input
              type="checkbox"
              checked={fields.access.includes(technician.id)}
              onChange={(event) => toggle(technician.id, event.currentTarget.checked)}
            />
            {technician.name}
          </label>
        ))}
      </fieldset>
      <Outcome error={action.error} info={action.info} />
      <button type="submit" class="primary" disabled={action.busy}>
        {props.submitLabel}
      </button>
    </form>
  );
}
