import type { Session, Technician } from "../../shared/model.ts";

/** Small hand-made views for the console's pure logic (the e2e tests use the real gateway). */

const AT = "2026-11-25T10:00:00.000Z";

export function technician(id: string, overrides: Partial<Technician> = {}): Technician {
  return {
    id,
    email: `${id}@example.test`,
    name: id.toUpperCase(),
    role: "technician",
    permissions: { attendedAccess: true, shareSessions: false, viewRecordings: false },
    disabled: false,
    createdAt: AT,
    ...overrides,
  };
}

export function session(overrides: Partial<Session> = {}): Session {
  return {
    id: "s1",
    channelId: "team1",
    name: "Customer",
    note: "",
    status: "Active",
    assignee: { id: "me", name: "ME" },
    invited: [],
    createdBy: { id: "me", name: "ME" },
    createdAt: AT,
    lastActivityAt: AT,
    expiresAt: AT,
    agent: { connected: true, device: null },
    permissions: [],
    viewers: [],
    continuation: null,
    ...overrides,
  };
}
