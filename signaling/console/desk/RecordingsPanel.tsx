import { useEffect, useState } from "preact/hooks";
import type { Session, Technician } from "../../../shared/model.ts";
import type { Recording } from "../../../shared/recording.ts";
import { mayViewRecordings } from "../../../shared/session-policy.ts";
import { api, errorText, recordingVideoUrl } from "../lib/api.ts";
import { formatMiB } from "../lib/format.ts";
import { useI18n } from "../lib/i18n.ts";

/** "m:ss" (or "h:mm:ss") of a duration in milliseconds. */
function clock(ms: number): string {
  const seconds = Math.round(ms / 1000);
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = String(seconds % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

/**
 * MediaRecorder's WebM carries no duration, so a player shows none and cannot seek: a seek past
 * the end makes the browser read to the end and learn it; then back to the start.
 */
function findDuration(video: HTMLVideoElement): void {
  if (Number.isFinite(video.duration)) return;
  const back = (): void => {
    if (!Number.isFinite(video.duration)) return;
    video.removeEventListener("durationchange", back);
    video.currentTime = 0;
  };
  video.addEventListener("durationchange", back);
  video.currentTime = Number.MAX_SAFE_INTEGER;
}

/**
 * The session's recordings, for admins and technicians with "view recordings": who recorded when,
 * how long, how large; play in the page (the gateway serves HTTP Range) or download. Each watch and
 * download is audited by the gateway.
 */
export function RecordingsPanel(props: { session: Session; me: Technician }) {
  const { t, lang, formatTime } = useI18n();
  const { session, me } = props;
  const allowed = mayViewRecordings({ role: me.role, viewRecordings: me.permissions.viewRecordings });
  const [list, setList] = useState<readonly Recording[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [playing, setPlaying] = useState<string | null>(null);
  const [round, setRound] = useState(0);
  // Read again when a view opens or closes (a recording starts or ends with it).
  const viewers = session.viewers.join(",");

  useEffect(() => {
    if (!allowed) return;
    let live = true;
    void viewers;
    api
      .recordings(session.id)
      .then((answer) => {
        if (!live) return;
        setList(answer.recordings);
        setError(null);
      })
      .catch((failure: unknown) => live && setError(errorText(failure)));
    return () => {
      live = false;
    };
  }, [allowed, session.id, viewers, round]);

  if (!allowed) return null;
  return (
    <section class="recordings" aria-label={t("recordings.title")}>
      <h3>{t("recordings.title")}</h3>
      {error !== null && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {list !== null && list.length === 0 && <p>{t("recordings.none")}</p>}
      {list !== null && list.length > 0 && (
        <ul>
          {list.map((recording) => (
            <li key={recording.id}>
              <span>
                {t("recordings.entry", {
                  time: formatTime(recording.startedAt),
                  name: recording.technician.name,
                  duration:
                    recording.durationMs === null
                      ? recording.endedAt === null
                        ? t("recordings.running")
                        : "–"
                      : clock(recording.durationMs),
                  size: formatMiB(lang, recording.bytes),
                })}
              </span>{" "}
              <button
                type="button"
                onClick={() => setPlaying(playing === recording.id ? null : recording.id)}
              >
                {playing === recording.id ? t("recordings.close") : t("recordings.play")}
              </button>{" "}
              <a href={recordingVideoUrl(recording.id, true)} download>
                {t("recordings.download")}
              </a>
              {playing === recording.id && (
                // biome-ignore lint/a11y/useMediaCaption: a screen recording has no speech to caption.
                <video
                  class="recording-player"
                  controls
                  preload="metadata"
                  src={recordingVideoUrl(recording.id)}
                  aria-label={t("recordings.player", { name: recording.technician.name })}
                  onLoadedMetadata={(event) => findDuration(event.currentTarget)}
                />
              )}
            </li>
          ))}
        </ul>
      )}
      <button type="button" onClick={() => setRound(round + 1)}>
        {t("recordings.refresh")}
      </button>
    </section>
  );
}
