/**
 * The agent's composition root: checks the display, loads input injection, starts the (idle)
 * screen stream, joins the gateway and starts the session. Every part gets only what it needs
 * (the terminal's streams, the gateway address, a logger), so it runs the same from the command
 * line, in tests and in a branded build.
 */
import { hostname, type as osType, release, userInfo } from "node:os";
import { type Logger, pino } from "pino";
import { MAX_DEVICE_FIELD_LENGTH } from "../shared/limits.ts";
import type { DeviceInfo } from "../shared/model.ts";
import { inertText, terminalSafeJson } from "../shared/plain-text.ts";
import { AgentError, type AgentOutcome } from "./exit.ts";
import type { ClipboardSource } from "./input/clipboard-source.ts";
import type { CursorShapeSource } from "./input/cursor-look.ts";
import { type Injector, loadInjector } from "./input/injector.ts";
import { win32ClipboardSource } from "./input/win32-clipboard-source.ts";
import { win32CursorShape } from "./input/win32-cursor-shape.ts";
import { x11ClipboardSource } from "./input/x11-clipboard-source.ts";
import { watchCursorShape } from "./input/x11-cursor-shape.ts";
import { listMonitors } from "./media/capture.ts";
import { ffmpegConfigured } from "./media/ffmpeg-binary.ts";
import { ScreenStream } from "./media/screen-stream.ts";
import type { VideoCodecName } from "./media/video-encoder.ts";
import { warmUpPeers } from "./peer/peer-connection.ts";
import type { VideoOffer } from "./peer/video-codec.ts";
import { AgentSession } from "./session/agent-session.ts";
import type { Messages } from "./session/messages.ts";
import { SignalingClient } from "./session/signaling-client.ts";
import type { FilesSetting } from "./session/technician-peers.ts";
import type { EndUserTerminal } from "./session/terminal.ts";
import type { JoinTarget } from "./target.ts";
import type { TrustedCas } from "./trust.ts";
import { AGENT_VERSION } from "./version.ts";

export type AgentOptions = {
  readonly target: JoinTarget;
  readonly codec: VideoCodecName;
  readonly maxFps: number;
  readonly maxBitrate: number;
  readonly monitor: number;
  /** Where files sent to the end user go, and whether they refuse them all. */
  readonly files: FilesSetting;
  /** --answer-timeout: time for a technician's answer to the first offer (path-watch.ts `answer`). */
  readonly answerTimeoutMs?: number;
  /** The screen copy path (docs/screen-copy-path.md); true unless --no-screen-copy. */
  readonly screenCopy?: boolean;
  readonly messages: Messages;
  readonly terminal: EndUserTerminal;
  readonly log: Logger;
  /** CAs trusted for the gateway (default: Node's and the system's, see trust.ts). */
  readonly trust?: TrustedCas;
};

/** The running agent, for the caller that wants to end it (signals) or look inside (tests). */
export type RunningAgent = {
  readonly session: AgentSession;
  readonly done: Promise<AgentOutcome>;
};

/**
 * What the agent tells the gateway about this computer. The gateway refuses control and bidi
 * characters here, so an odd host or user name is sent with them shown as visible escapes.
 */
export function deviceInfo(): DeviceInfo {
  const cut = (text: string, max: number) => inertText(text, max).slice(0, max);
  let user = "";
  try {
    user = userInfo().username;
  } catch {
    // no user database entry (containers): leave it empty
  }
  return {
    hostname: cut(hostname(), MAX_DEVICE_FIELD_LENGTH),
    os: cut(`${osType()} ${release()}`, MAX_DEVICE_FIELD_LENGTH),
    user: cut(user, MAX_DEVICE_FIELD_LENGTH),
    agentVersion: AGENT_VERSION,
  };
}

/**
 * JSON logs on stderr, written synchronously so the last lines survive an exit. They may quote the
 * gateway (its error messages), and stderr is the end user's terminal: characters JSON leaves raw
 * (C1 controls such as the 8-bit CSI, bidi controls) are written as \u escapes.
 */
export function createLogger(level: string): Logger {
  return pino(
    { level, base: null, hooks: { streamWrite: terminalSafeJson } },
    pino.destination({ fd: 2, sync: true }),
  );
}

/** The end user's clipboard on this platform: user32 on Windows, xsel on Linux, else not watched. */
function clipboardSourceFor(injector: Injector, log: Logger): ClipboardSource | undefined {
  if (process.platform === "win32")
    return win32ClipboardSource(injector, (error) => log.debug({ err: error }, "clipboard read failed"));
  return process.platform === "linux" ? x11ClipboardSource() : undefined;
}

/** Where the pointer's look comes from: user32 in the input worker on Windows, XFixes elsewhere. */
function cursorShapeSourceFor(injector: Injector): CursorShapeSource {
  return process.platform === "win32" ? win32CursorShape(injector) : watchCursorShape;
}

/** Starts the agent; rejects with an AgentError when it cannot start (no display, join refused). */
export async function startAgent(options: AgentOptions): Promise<RunningAgent> {
  const { target, messages, terminal, log } = options;
  const monitors = listMonitors();
  if (options.monitor >= monitors.length) {
    throw new AgentError("usage", `There is no monitor ${options.monitor} (found ${monitors.length}).`);
  }
  let injector: Injector;
  try {
    injector = await loadInjector();
  } catch (cause) {
    throw new AgentError("no_display", messages.noDisplay, { cause });
  }
  terminal.say(messages.connecting(target.gateway));
  const client = new SignalingClient({
    gateway: target.gateway,
    join: target.join,
    device: deviceInfo(),
    messages,
    ...(options.trust === undefined ? {} : { trust: options.trust }),
  });
  // The capture worker warms up while the agent joins.
  const [streamStart, joined] = await Promise.allSettled([
    ScreenStream.start(
      {
        monitor: options.monitor,
        codec: options.codec,
        maxFps: options.maxFps,
        bitrate: options.maxBitrate,
      },
      ({ level, message, detail }) => log[level]({ detail }, message),
    ),
    client.connect(),
  ]);
  if (streamStart.status === "rejected" || joined.status === "rejected") {
    client.close();
    if (streamStart.status === "fulfilled") await streamStart.value.close();
    throw joined.status === "rejected"
      ? joined.reason
      : streamStart.status === "rejected"
        ? streamStart.reason
        : undefined;
  }
  const stream = streamStart.value;
  const welcome = joined.value;
  log.info({ sessionId: welcome.session.id }, "joined");
  // H.264 is offered in the profile the encoder emits (video-codec.ts).
  const video: VideoOffer = {
    preferred: options.codec,
    h264Profile: ffmpegConfigured(import.meta.url) ? "constrained-baseline" : "high",
  };
  const session = new AgentSession({
    client,
    welcome,
    stream,
    injector,
    clipboardSource: clipboardSourceFor(injector, log),
    // Windows: a secure desktop (UAC, lock screen) is told to the console; SendInput cannot make
    // Ctrl+Alt+Del, so the console says so rather than pretending.
    inputDesktop: process.platform === "win32" ? () => injector.inputDesktop() : undefined,
    reserved: process.platform === "win32" ? ["ctrlAltDel"] : [],
    terminal,
    messages,
    log,
    video,
    maxBitrate: options.maxBitrate,
    maxFps: options.maxFps,
    files: options.files,
    ...(options.screenCopy === undefined ? {} : { screenCopy: options.screenCopy }),
    ...(options.answerTimeoutMs === undefined ? {} : { answerTimeoutMs: options.answerTimeoutMs }),
  });
  warmUpPeers(video).catch((error: unknown) => log.debug({ err: error }, "peer warm-up failed"));
  const done = session.run();
  void cursorShapeSourceFor(injector)(
    (sight) => session.showCursor(sight),
    (error) => log.warn({ err: error }, "cursor shape watch"),
  ).then((watch) => {
    log.debug({ available: watch !== undefined }, "cursor shape watch");
    void done.finally(() => watch?.close());
  });
  return { session, done };
}
