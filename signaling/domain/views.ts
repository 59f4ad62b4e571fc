import { type Channel, HOME_CHANNEL_ID, type Session, type Technician } from "../../shared/model.ts";
import { iso } from "../clock.ts";
import type { ChannelRow, SessionRow, TechnicianRow } from "../store/rows.ts";
import type { Store } from "../store/store.ts";

/** Rows to the shared views handed out over REST and the console socket. */

export function technicianView(row: TechnicianRow): Technician {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    role: row.role,
    permissions: { attendedAccess: row.attendedAccess, shareSessions: row.shareSessions },
    disabled: row.disabled,
    createdAt: iso(row.createdAt),
  };
}

export function channelView(row: ChannelRow, access: string[]): Channel {
  return {
    id: row.id,
    kind: row.id === HOME_CHANNEL_ID ? "home" : row.kind,
    name: row.name,
    sessionExpiryMinutes: row.sessionExpiryMinutes,
    access,
    createdAt: iso(row.createdAt),
  };
}

export function sessionView(
  store: Store,
  row: SessionRow,
  live: { agentConnected: boolean; viewers: readonly string[] },
): Session {
  const person = (id: string) => ({ id, name: store.getTechnician(id)?.name ?? "(removed)" });
  return {
    id: row.id,
    channelId: row.channelId,
    name: row.name,
    note: row.note,
    status: row.status,
    assignee: row.assigneeId === null ? null : person(row.assigneeId),
    invited: store.getInvites(row.id).map(person),
    createdBy: person(row.createdBy),
    createdAt: iso(row.createdAt),
    lastActivityAt: iso(row.lastActivityAt),
    expiresAt: iso(row.expiresAt),
    agent: { connected: live.agentConnected, device: row.device },
    // `none` is no permission at all (what a technician who left the session is reset to).
    permissions: store
      .getPermissions(row.id)
      .filter((permission) => permission.state !== "none")
      .map((permission) => ({
        technicianId: permission.technicianId,
        state: permission.state,
        access: permission.access,
      })),
    viewers: [...live.viewers],
  };
}
