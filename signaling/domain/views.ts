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

export async function sessionView(
  store: Store,
  row: SessionRow,
  live: { agentConnected: boolean; viewers: readonly string[] },
): Promise<Session> {
  const names = new Map<string, string>();
  const person = async (id: string) => {
    let name = names.get(id);
    if (name === undefined) {
      name = (await store.getTechnician(id))?.name ?? "(removed)";
      names.set(id, name);
    }
    return { id, name };
  };
  const invited: Session["invited"] = [];
  for (const id of await store.getInvites(row.id)) invited.push(await person(id));
  const permissions = await store.getPermissions(row.id);
  return {
    id: row.id,
    channelId: row.channelId,
    name: row.name,
    note: row.note,
    status: row.status,
    assignee: row.assigneeId === null ? null : await person(row.assigneeId),
    invited,
    createdBy: await person(row.createdBy),
    createdAt: iso(row.createdAt),
    lastActivityAt: iso(row.lastActivityAt),
    expiresAt: iso(row.expiresAt),
    agent: { connected: live.agentConnected, device: row.device },
    // `none` is no permission at all (what a technician who left the session is reset to).
    permissions: permissions
      .filter((permission) => permission.state !== "none")
      .map((permission) => ({
        technicianId: permission.technicianId,
        state: permission.state,
        access: permission.access,
      })),
    viewers: [...live.viewers],
    continuation: continuationView(await store.getContinuation(row.id)),
  };
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
