import { SosError } from "../../../shared/errors.ts";
import {
  nextPermission,
  nextStatus,
  type PermissionEvent,
  type SessionEvent,
} from "../../../shared/status.ts";
import type { PermissionRow, SessionRow } from "../../store/rows.ts";
import type { StoreQueries } from "../../store/store.ts";

/** Applies the shared transition table to a session row, or refuses with INVALID_TRANSITION. */
export function transition(session: SessionRow, event: SessionEvent, agentConnected: boolean): SessionRow {
  const status = nextStatus(session.status, event, { agentConnected });
  if (status === undefined) {
    throw new SosError("INVALID_TRANSITION", `A ${session.status} session cannot be ${describe(event)}.`);
  }
  return { ...session, status };
}

function describe(event: SessionEvent): string {
  switch (event) {
    case "agentJoined":
      return "joined";
    case "agentLeft":
      return "left";
    case "assigned":
      return "assigned";
    case "released":
      return "released";
    case "expired":
      return "expired";
    case "closed":
      return "closed";
    case "lapsed":
      return "ended unconfirmed";
  }
}

/** Applies the permission table, or refuses with INVALID_TRANSITION. */
export function permissionTransition(row: PermissionRow, event: PermissionEvent): PermissionRow["state"] {
  const state = nextPermission(row.state, event);
  if (state === undefined) {
    throw new SosError("INVALID_TRANSITION", `Permission cannot go from ${row.state} by ${event}.`);
  }
  return state;
}

/** A consent request withdrawn in a transaction, to cancel at the agent once committed. */
export type Withdrawn = { sessionId: string; requestId: string };

/**
 * The technicians leave (or the app that was asked is gone): their permissions go back to `none`
 * by the machine's `reset`. The request id stays, so a late answer to a withdrawn request is
 * recognised as such. Call inside a transaction; returns the requests that were still pending.
 */
export async function resetPermissions(
  store: StoreQueries,
  now: number,
  rows: readonly PermissionRow[],
): Promise<Withdrawn[]> {
  const withdrawn: Withdrawn[] = [];
  for (const row of rows) {
    if (row.state === "none") continue;
    if (row.state === "requested" && row.requestId !== null) {
      withdrawn.push({ sessionId: row.sessionId, requestId: row.requestId });
    }
    await store.putPermission({
      ...row,
      state: permissionTransition(row, "reset"),
      access: null,
      updatedAt: now,
    });
  }
  return withdrawn;
}
