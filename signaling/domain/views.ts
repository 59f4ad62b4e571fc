import {
  type Channel,
  type ChatLine,
  HOME_CHANNEL_ID,
  type Session,
  type Technician,
} from "../../shared/model.ts";
import { iso } from "../clock.ts";
import type { ChannelRow, ChatLineRow, ContinuationRow, SessionRow, TechnicianRow } from "../store/rows.ts";
import type { Store } from "../store/store.ts";

/** Rows to the shared views handed out over REST and the console socket. */

export function technicianView(row: TechnicianRow): Technician {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    role: row.role,
    permissions: {
      attendedAccess: row.attendedAccess,
      shareSessions: row.shareSessions,
      viewRecordings: row.viewRecordings,
    },
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
    reconfirmMinutes: row.reconfirmMinutes,
    fileSizeLimitMb: row.fileSizeLimitMb,
    access,
    recording: { mode: row.recordingMode, retentionDays: row.recordingRetentionDays },
    createdAt: iso(row.createdAt),
  };
}

/** What a session's view takes from the hub besides the store: agent presence and open views. */
export type LiveSession = { agentConnected: boolean; viewers: readonly string[] };

export async function sessionView(store: Store, row: SessionRow, live: LiveSession): Promise<Session> {
  const [view] = await sessionViews(store, [row], () => live);
  if (view === undefined) throw new Error("unreachable: one view per row");
  return view;
}

/** The views of many sessions, in their order, from a few store reads for all of them. */
export async function sessionViews(
  store: Store,
  rows: readonly SessionRow[],
  live: (sessionId: string) => LiveSession,
): Promise<Session[]> {
  if (rows.length === 0) return [];
  const parts = await store.getSessionParts(rows);
  const person = (id: string) => ({ id, name: parts.names.get(id) ?? "(removed)" });
  return rows.map((row) => {
    const { agentConnected, viewers } = live(row.id);
    return {
      id: row.id,
      channelId: row.channelId,
      name: row.name,
      note: row.note,
      status: row.status,
      assignee: row.assigneeId === null ? null : person(row.assigneeId),
      invited: (parts.invites.get(row.id) ?? []).map(person),
      createdBy: person(row.createdBy),
      createdAt: iso(row.createdAt),
      lastActivityAt: iso(row.lastActivityAt),
      expiresAt: iso(row.expiresAt),
      agent: { connected: agentConnected, device: row.device },
      // `none` is no permission at all (what a technician who left the session is reset to).
      permissions: (parts.permissions.get(row.id) ?? [])
        .filter((permission) => permission.state !== "none")
        .map((permission) => ({
          technicianId: permission.technicianId,
          state: permission.state,
          access: permission.access,
        })),
      viewers: [...viewers],
      continuation: continuationView(parts.continuations.get(row.id)),
    };
  });
}

function continuationView(row: ContinuationRow | undefined): Session["continuation"] {
  if (row === undefined) return null;
  return {
    state: row.state,
    since: iso(row.since),
    deadline: row.state === "asked" && row.deadline !== null ? iso(row.deadline) : null,
  };
}

export function chatLineView(row: ChatLineRow): ChatLine {
  return {
    id: row.id,
    sessionId: row.sessionId,
    at: iso(row.at),
    kind: row.kind,
    technician:
      row.technicianId === null ? null : { id: row.technicianId, name: row.technicianName ?? "(removed)" },
    text: row.text,
  };
}

/**
 * Who is with the end user, as the agent is told (`technicians`): the technicians on the session,
 * the assignee first, with what the end user granted and whether their view is open.
 */
export function onSessionView(session: Session) {
  const people = session.assignee === null ? session.invited : [session.assignee, ...session.invited];
  return people.map((person) => {
    const permission = session.permissions.find((p) => p.technicianId === person.id);
    return {
      id: person.id,
      name: person.name,
      access: permission?.state === "granted" ? permission.access : null,
      viewing: session.viewers.includes(person.id),
    };
  });
}
