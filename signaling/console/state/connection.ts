import type { ConsoleMessage, GatewayToConsole } from "../../../shared/console-protocol.ts";
import type { Technician } from "../../../shared/model.ts";
import { api, errorText, isUnauthenticated, logRefusal, refusalText } from "../lib/api.ts";
import { type ConsoleSocket, consoleSocketUrl, openConsoleSocket } from "../lib/socket.ts";
import {
  addChatLines,
  auth,
  channels,
  sessions,
  sessionsLoaded,
  setSystemInfo,
  showNotice,
  socketStatus,
  technicians,
} from "./stores.ts";

/** The live link to the gateway: applies pushed session changes and routes remote-view messages. */

export type RemoteMessage = Extract<
  GatewayToConsole,
  { type: "remote.opened" | "remote.signal" | "remote.ice" | "remote.closed" | "error" }
>;
type RemoteListener = (message: RemoteMessage) => void;

const remoteListeners = new Map<string, RemoteListener>();
let socket: ConsoleSocket | null = null;

/** The remote view of `sessionId` receives its messages here until the returned function is called. */
export function listenRemote(sessionId: string, listener: RemoteListener): () => void {
  remoteListeners.set(sessionId, listener);
  return () => {
    if (remoteListeners.get(sessionId) === listener) remoteListeners.delete(sessionId);
  };
}

export function sendConsole(message: ConsoleMessage): boolean {
  return socket?.send(message) ?? false;
}

function updateMe(technician: Technician): void {
  const current = auth.get();
  if (current.kind === "signedIn") auth.set({ kind: "signedIn", me: { ...current.me, technician } });
}

function toRemote(message: Exclude<RemoteMessage, { type: "error" }>): void {
  remoteListeners.get(message.sessionId)?.(message);
}

type Handlers = {
  [K in GatewayToConsole["type"]]: (message: Extract<GatewayToConsole, { type: K }>) => void;
};

const handlers: Handlers = {
  hello: (message) => updateMe(message.technician),
  sessions: (message) => {
    sessions.set(new Map(message.sessions.map((session) => [session.id, session])));
    sessionsLoaded.set(true);
  },
  "session.updated": (message) =>
    sessions.update((current) => new Map(current).set(message.session.id, message.session)),
  "session.removed": (message) =>
    sessions.update((current) => {
      const next = new Map(current);
      next.delete(message.sessionId);
      return next;
    }),
  "chat.line": (message) => addChatLines(message.line.sessionId, [message.line]),
  "system.info": (message) => setSystemInfo(message.sessionId, message.info, message.at),
  "remote.opened": toRemote,
  "remote.signal": toRemote,
  "remote.ice": toRemote,
  "remote.closed": toRemote,
  error: (message) => {
    const aboutRemote = /^(remote|signal)/.test(message.inReplyTo ?? "remote");
    logRefusal(message.error.code, message.error.message, message.inReplyTo);
    if (!aboutRemote) showNotice("error", refusalText(message.error));
    else if (remoteListeners.size > 0) for (const listener of remoteListeners.values()) listener(message);
    // A late answer about a remote view that is already gone concerns nobody.
    else console.warn("console socket:", message.error.code, message.inReplyTo);
  },
};

function dispatch(message: GatewayToConsole): void {
  // The map is exhaustive over the schema's types; the lookup loses the pairing, not the check.
  (handlers[message.type] as (message: GatewayToConsole) => void)(message);
}

/** Channels and technicians change rarely; they are read again whenever the socket (re)opens. */
export async function refreshDirectory(): Promise<void> {
  try {
    const [channelList, technicianList] = await Promise.all([api.channels(), api.technicians()]);
    channels.set(channelList.channels);
    technicians.set(technicianList.technicians);
  } catch (error) {
    if (!isUnauthenticated(error)) showNotice("error", errorText(error));
  }
}

async function stillSignedIn(): Promise<boolean> {
  try {
    const me = await api.me();
    updateMe(me.technician);
    return true;
  } catch (error) {
    if (!isUnauthenticated(error)) return true;
    stopConnection();
    auth.set({ kind: "signedOut", setupOpen: false });
    return false;
  }
}

export function startConnection(): void {
  if (socket !== null) return;
  socket = openConsoleSocket(consoleSocketUrl(location), {
    message: dispatch,
    status: (status) => {
      socketStatus.set(status);
      if (status === "open") void refreshDirectory();
    },
    dropped: stillSignedIn,
    invalid: (reason) => console.warn("console socket: ignored a message:", reason),
  });
}

export function stopConnection(): void {
  socket?.close();
  socket = null;
  sessions.set(new Map());
  sessionsLoaded.set(false);
  socketStatus.set("connecting");
}
