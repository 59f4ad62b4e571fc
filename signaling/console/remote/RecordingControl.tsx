import type { RecordingMode } from "../../../shared/recording.ts";
import { useI18n } from "../lib/i18n.ts";
import { useStore } from "../lib/store.ts";
import type { Recorder } from "./recorder.ts";
import type { PictureSource } from "./recording-picture.ts";

/**
 * The remote view's recording mark and button: "Record" where the channel records on request,
 * nothing where it is off; the red mark while the recording runs (the end user's terminal says so
 * too), and why it failed when it did.
 */
export function RecordingControl(props: {
  recorder: Recorder;
  mode: RecordingMode;
  /** What a recording records; null while there is no picture. */
  picture: PictureSource | null;
}) {
  const { t } = useI18n();
  const phase = useStore(props.recorder.phase);
  if (props.mode === "off") return null;
  const { picture } = props;
  return (
    <div class="recording">
      {phase.kind === "recording" && (
        <p class="recording-mark" role="status">
          <span aria-hidden="true">● </span>
          {t("remote.recording.on")}
        </p>
      )}
      {phase.kind === "starting" && <p role="status">{t("remote.recording.starting")}</p>}
      {phase.kind === "failed" && (
        <p class="error" role="alert">
          {t("remote.recording.failed", { reason: phase.message })}
        </p>
      )}
      {props.mode === "request" && (phase.kind === "idle" || phase.kind === "failed") && (
        <button
          type="button"
          disabled={picture === null}
          onClick={() => picture && void props.recorder.start(picture)}
        >
          {t("remote.recording.start")}
        </button>
      )}
      {props.mode === "request" && phase.kind === "recording" && (
        <button type="button" onClick={() => void props.recorder.stop()}>
          {t("remote.recording.stop")}
        </button>
      )}
    </div>
  );
}
