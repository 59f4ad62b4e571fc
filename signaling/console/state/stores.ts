import type { MeResponse } from "../../../shared/api.ts";
import type { Channel, ChatLine, Session, Technician } from "../../../shared/model.ts";
import type { SystemInfo } from "../../../shared/system-info.ts";
import type { SocketStatus } from "../lib/socket.ts";
import { createStore } from "../lib/store.ts";

/** The console's state: plain stores, changed by state/auth.ts and state/connection.ts. */

export type Auth =
  | { kind: "loading" }
  | { kind: "signedOut"; setupOpen: boolean }
  | { kind: "signedIn"; me: MeResponse };

export const auth = createStore<Auth>({ kind: "loading" });

/** Every session this technician may see, live from the console socket. */
export const sessions = createStore<ReadonlyMap<string, Session>>(new Map());
/** False until the socket's first `sessions` message arrived. */
export const sessionsLoaded = createStore(false);
export const socketStatus = createStore<SocketStatus>("connecting");

/** The chat lines of sessions this console looked at or was told about, by session, oldest first. */
export const chats = createStore<ReadonlyMap<string, readonly ChatLine[]>>(new Map());

/** Adds lines (from the history or the socket) to their session's chat: each once, in id order. */
export function addChatLines(sessionId: string, lines: readonly ChatLine[]): void {
  chats.update((current) => {
    const byId = new Map((current.get(sessionId) ?? []).map((line) => [line.id, line]));
    for (const line of lines) byId.set(line.id, line);
    return new Map(current).set(
      sessionId,
      [...byId.values()].sort((a, b) => a.id - b.id),
    );
  });
}

/** The end user's computer's facts per session, as last received, and when. */
export const systemInfos = createStore<ReadonlyMap<string, { info: SystemInfo; at: string }>>(new Map());

export function setSystemInfo(sessionId: string, info: SystemInfo, at: string): void {
  systemInfos.update((current) => new Map(current).set(sessionId, { info, at }));
}

/** Home, Private, then team channels this technician may see. */
export const channels = createStore<readonly Channel[]>([]);
/** Every technician of the organization, for the assign, transfer and invite pickers. */
export const technicians = createStore<readonly Technician[]>([]);

export type Notice = { kind: "error" | "info"; text: string; at: number };
/** The console-wide message line (socket errors that belong to no dialog). */
export const notice = createStore<Notice | null>(null);

export function showNotice(kind: Notice["kind"], text: string): void {
  notice.set({ kind, text, at: Date.now() });
}

export function signedInMe(): MeResponse | null {
  const current = auth.get();
  return current.kind === "signedIn" ? current.me : null;
}
