import type { MeResponse } from "../../../shared/api.ts";
import type { Channel, Session, Technician } from "../../../shared/model.ts";
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
