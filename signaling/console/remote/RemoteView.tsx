import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import type { ReservedCombo } from "../../../shared/control.ts";
import type { Technician } from "../../../shared/model.ts";
import { useI18n } from "../lib/i18n.ts";
import { navigate } from "../lib/router.ts";
import { useStore } from "../lib/store.ts";
import { channels, sessions, technicians } from "../state/stores.ts";
import { ClipboardPanel } from "./ClipboardPanel.tsx";
import { FilesPanel } from "./FilesPanel.tsx";
import { captureInput } from "./input-capture.ts";
import { storedKeyboardMode, storeKeyboardMode } from "./keyboard-mode.ts";
import { QualityLine } from "./QualityLine.tsx";
import { RecordingControl } from "./RecordingControl.tsx";
import { RemoteCursor } from "./RemoteCursor.tsx";
import { RemoteToolbar, type ScaleMode } from "./RemoteToolbar.tsx";
import { createRecorder } from "./recorder.ts";
import { composePicture, type PictureSource } from "./recording-picture.ts";
import { paintScreen } from "./screen-paint.ts";
import { useRemote } from "./use-remote.ts";

/** The remote view: the agent's screen, input captured over it, the toolbar and the quality line. */
export function RemoteView(props: { sessionId: string; me: Technician }) {
  const { t } = useI18n();
  const remote = useRemote(props.sessionId);
  const session = useStore(sessions).get(props.sessionId);
  const people = useStore(technicians);
  const [scale, setScale] = useState<ScaleMode>("fit");
  const [size, setSize] = useState({ width: 0, height: 0 });
  const [keyboardMode, setKeyboardMode] = useState(() => storedKeyboardMode(props.me.id));
  const [reservedAsked, setReservedAsked] = useState<ReservedCombo | null>(null);
  const mode = useRef(keyboardMode);
  mode.current = keyboardMode;
  const frame = useRef<HTMLDivElement>(null);
  const stage = useRef<HTMLDivElement>(null);
  const video = useRef<HTMLVideoElement>(null);
  /** The lossless overlay (screen-paint.ts): the screen's size, over the video in the same box. */
  const overlay = useRef<HTMLCanvasElement>(null);
  const { state, access } = remote;
  const recorder = useMemo(() => createRecorder(props.sessionId), [props.sessionId]);
  const recordingMode =
    useStore(channels).find((channel) => channel.id === session?.channelId)?.recording.mode ?? "off";
  const viewOpen = state.phase.kind === "open";
  const screenLink = useStore(remote.screen);
  /** What a recording records: the video with the overlay drawn over it, as the technician sees it. */
  const picture = useMemo((): PictureSource | null => {
    const stream = state.stream;
    if (!viewOpen || stream === null) return null;
    return () => {
      const element = video.current;
      if (element === null) throw new Error("no picture to record");
      return composePicture(stream, element, overlay.current);
    };
  }, [viewOpen, state.stream]);

  // "always": recording starts with the view; a new picture (after a reconnect) starts a new one.
  useEffect(() => {
    if (recordingMode !== "always" || picture === null) return;
    void recorder.start(picture);
    return () => void recorder.stop();
  }, [recordingMode, picture, recorder]);
  // Leaving the view ends the recording (what is left is uploaded first).
  useEffect(() => () => void recorder.stop(), [recorder]);
  const fileLink = useStore(remote.files);
  const canControl = access === "control" && state.controlOpen && state.phase.kind === "open";

  useEffect(() => {
    const element = video.current;
    if (element !== null && element.srcObject !== state.stream) element.srcObject = state.stream;
  }, [state.stream]);

  useEffect(() => {
    const canvas = overlay.current;
    const element = video.current;
    if (screenLink === null || canvas === null || element === null) return;
    return paintScreen(screenLink, canvas, element);
  }, [screenLink]);

  useEffect(() => {
    const element = stage.current;
    const picture = video.current;
    if (!canControl || element === null || picture === null) return;
    // Keys typed right after connecting should reach the remote side, not the page.
    element.focus();
    return captureInput(element, picture, remote.send, () => mode.current);
  }, [canControl, remote.send]);

  const back = (): void => navigate({ page: "desk", channelId: "home" });
  const title = session?.name === undefined || session.name === "" ? t("unnamed") : session.name;
  const host = session?.agent.device?.hostname;
  const nameOf = (id: string): string =>
    id === props.me.id ? props.me.name : (people.find((technician) => technician.id === id)?.name ?? id);
  const viewers = (session?.viewers ?? []).map((id) => {
    const granted = session?.permissions.find((entry) => entry.technicianId === id)?.access ?? "view";
    return `${nameOf(id)} (${t(`access.${granted}`)})`;
  });
  const ended = state.phase.kind === "closed" || state.phase.kind === "refused";
  // The overlay takes the video's box: the same size in "actual", the stage (object-fit) in "fit".
  const pictureStyle =
    scale === "actual" && size.width > 0 ? { width: `${size.width}px`, height: `${size.height}px` } : {};

  return (
    <div class="remote" ref={frame}>
      <header class="remote-bar">
        <h1>
          {t("remote.title", { session: title })}
          {host !== undefined && <span class="host">{host}</span>}
        </h1>
        <RemoteToolbar
          scale={scale}
          onScale={setScale}
          onFullScreen={() => void frame.current?.requestFullscreen().catch(() => undefined)}
          canControl={canControl}
          monitors={state.monitors}
          monitor={state.monitor}
          send={remote.send}
          reserved={state.reserved}
          onReserved={setReservedAsked}
          keyboardMode={keyboardMode}
          onKeyboardMode={(next) => {
            storeKeyboardMode(props.me.id, next);
            setKeyboardMode(next);
          }}
          onDisconnect={() => {
            // The last seconds reach the gateway before the view (and with it the recording) ends.
            // Never held up for long by a gateway that does not answer.
            const stopped = Promise.race([
              recorder.stop(),
              new Promise((resolve) => setTimeout(resolve, 5_000)),
            ]);
            void stopped.finally(() => {
              remote.disconnect();
              back();
            });
          }}
        />
      </header>
      <div class="remote-status">
        {access !== null && (
          <p class={`access access-${access}`} role="status">
            {access === "view" ? t("remote.viewOnly") : t("remote.control")}
          </p>
        )}
        {viewers.length > 0 && <p>{t("remote.viewers", { names: viewers.join(", ") })}</p>}
        <RecordingControl recorder={recorder} mode={recordingMode} picture={picture} />
        {state.secureDesktop && (
          <p class="secure-desktop" role="alert">
            {t("remote.secureDesktop")}
          </p>
        )}
        {reservedAsked !== null && (
          <p class="reserved" role="status">
            {t(`remote.reserved.${reservedAsked}`)}
          </p>
        )}
        <ClipboardPanel remoteText={state.remoteClipboard} canSend={canControl} send={remote.send} />
        {fileLink !== null && <FilesPanel link={fileLink} canSend={canControl} />}
      </div>
      <div
        class={`stage scale-${scale}`}
        ref={stage}
        // biome-ignore lint/a11y/noNoninteractiveTabindex: the remote screen takes keyboard focus to send keys.
        tabIndex={0}
        role="application"
        aria-label={t("remote.video")}
        aria-roledescription={t("remote.video")}
        onDragOver={(event) => {
          if (fileLink === null || !canControl) return;
          event.preventDefault();
          if (event.dataTransfer !== null) event.dataTransfer.dropEffect = "copy";
        }}
        onDrop={(event) => {
          if (fileLink === null || !canControl) return;
          event.preventDefault();
          for (const file of Array.from(event.dataTransfer?.files ?? [])) fileLink.send(file);
        }}
      >
        <video
          ref={video}
          autoplay
          muted
          playsInline
          onResize={(event) =>
            setSize({ width: event.currentTarget.videoWidth, height: event.currentTarget.videoHeight })
          }
          style={pictureStyle}
        />
        {/* Lossless tiles over the video, transparent elsewhere; input goes through to the stage. */}
        <canvas ref={overlay} class="screen-overlay" style={pictureStyle} />
        <RemoteCursor cursor={remote.cursor} stage={stage} video={video} />
        {state.phase.kind !== "open" && (
          <div class="stage-message" role={ended ? "alert" : "status"}>
            <p>
              {state.phase.kind === "connecting" && t("remote.connecting")}
              {state.phase.kind === "reconnecting" && t("remote.reconnecting")}
              {state.phase.kind === "closed" && t(`remote.closed.${state.phase.reason}`)}
              {state.phase.kind === "refused" && state.phase.message}
            </p>
            {ended && (
              <button type="button" class="primary" onClick={back}>
                {t("remote.back")}
              </button>
            )}
          </div>
        )}
      </div>
      <QualityLine quality={state.quality} />
    </div>
  );
}
