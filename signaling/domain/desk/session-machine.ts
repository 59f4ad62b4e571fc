import { SosError } from "../../shared/errors.ts";
import { nextPermission, nextStatus, type PermissionEvent, type SessionEvent } from "../../shared/status.ts";
import type { PermissionRow, SessionRow } from "../store/rows.ts";

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
