import { toContinuation } from "./continuation-queries.ts";
import { text, toPermission } from "./row-mappers.ts";
import type { ContinuationRow, PermissionRow } from "./rows.ts";
import type { Sql } from "./sql.ts";
import type { StoreQueries } from "./store.ts";

export type SessionPartsQueries = Pick<StoreQueries, "getSessionParts">;

/** Ids per query: far below SQLite's limit on bound parameters. */
const CHUNK = 500;

/**
 * A console's snapshot shows every session it may see: reading each one's invites, permissions,
 * clock and people separately costs several round trips per session, so they are read here a few
 * queries per CHUNK sessions.
 */
export function sessionPartsQueries({ all }: Sql): SessionPartsQueries {
  const inChunks = async <T>(
    ids: readonly string[],
    read: (chunk: string[], marks: string) => Promise<T[]>,
  ) => {
    const rows: T[] = [];
    for (let at = 0; at < ids.length; at += CHUNK) {
      const chunk = ids.slice(at, at + CHUNK);
      rows.push(...(await read(chunk, chunk.map(() => "?").join(", "))));
    }
    return rows;
  };
  return {
    async getSessionParts(sessions) {
      const ids = [...new Set(sessions.map((s) => s.id))];
      const invites = new Map<string, string[]>();
      for (const row of await inChunks(ids, (chunk, marks) =>
        all(
          `SELECT session_id, account_id FROM session_invites WHERE session_id IN (${marks}) ORDER BY invited_at, account_id`,
          ...chunk,
        ),
      )) {
        const session = text(row, "session_id");
        invites.set(session, [...(invites.get(session) ?? []), text(row, "account_id")]);
      }
      const permissions = new Map<string, PermissionRow[]>();
      for (const row of await inChunks(ids, (chunk, marks) =>
        all(`SELECT * FROM session_permissions WHERE session_id IN (${marks}) ORDER BY updated_at`, ...chunk),
      )) {
        const permission = toPermission(row);
        permissions.set(permission.sessionId, [...(permissions.get(permission.sessionId) ?? []), permission]);
      }
      const continuations = new Map<string, ContinuationRow>();
      for (const row of await inChunks(ids, (chunk, marks) =>
        all(`SELECT * FROM session_continuation WHERE session_id IN (${marks})`, ...chunk),
      )) {
        const continuation = toContinuation(row);
        continuations.set(continuation.sessionId, continuation);
      }
      const people = new Set<string>();
      for (const session of sessions) {
        if (session.assigneeId !== null) people.add(session.assigneeId);
        people.add(session.createdBy);
      }
      for (const invited of invites.values()) for (const id of invited) people.add(id);
      const names = new Map<string, string>();
      for (const row of await inChunks([...people], (chunk, marks) =>
        all(`SELECT id, name FROM accounts WHERE id IN (${marks})`, ...chunk),
      )) {
        names.set(text(row, "id"), text(row, "name"));
      }
      return { invites, permissions, continuations, names };
    },
  };
}
