import t from "tap";
import {
  nextPermission,
  nextStatus,
  PERMISSION_EVENTS,
  PERMISSION_STATES,
  SESSION_EVENTS,
  SESSION_STATUSES,
} from "../../shared/status.ts";

// The seed's status machine, written out as the contract the table must implement; `lapsed`
// (the end user did not confirm that the session may continue, issue 16) closes a live session.
const allowed: Record<string, string> = {
  "Waiting agentJoined": "Active",
  "Waiting agentLeft": "Waiting",
  "Waiting assigned": "Waiting",
  "Waiting released": "Queued",
  "Waiting expired": "Expired",
  "Waiting closed": "Closed",
  "Waiting lapsed": "Closed",
  "Active agentJoined": "Active",
  "Active agentLeft": "Waiting",
  "Active assigned": "Active",
  "Active released": "Queued",
  "Active closed": "Closed",
  "Active lapsed": "Closed",
  "Queued agentJoined": "Queued",
  "Queued agentLeft": "Queued",
  "Queued assigned (agent present)": "Active",
  "Queued assigned (agent absent)": "Waiting",
  "Queued expired": "Expired",
  "Queued closed": "Closed",
  "Queued lapsed": "Closed",
};

t.test(
  "every status/event pair goes exactly where the seed says, and every other pair is refused",
  async (t) => {
    for (const status of SESSION_STATUSES) {
      for (const event of SESSION_EVENTS) {
        for (const agentConnected of [true, false]) {
          const qualified = `${status} ${event} (agent ${agentConnected ? "present" : "absent"})`;
          const expected = allowed[qualified] ?? allowed[`${status} ${event}`];
          t.equal(nextStatus(status, event, { agentConnected }), expected, qualified);
        }
      }
    }
  },
);

t.test("Expired and Closed are terminal: nothing leaves them", async (t) => {
  for (const status of ["Expired", "Closed"] as const) {
    for (const event of SESSION_EVENTS) {
      t.equal(nextStatus(status, event, { agentConnected: true }), undefined, `${status} refuses ${event}`);
    }
  }
});

t.test(
  "permission: none -> requested -> granted | denied, revocable, and asked again after denied or revoked",
  async (t) => {
    const expected: Record<string, string> = {
      "none request": "requested",
      "requested grant": "granted",
      "requested deny": "denied",
      "requested revoke": "revoked",
      "granted revoke": "revoked",
      "denied request": "requested",
      "revoked request": "requested",
    };
    for (const state of PERMISSION_STATES) {
      for (const event of PERMISSION_EVENTS) {
        const want = event === "reset" ? "none" : expected[`${state} ${event}`];
        t.equal(nextPermission(state, event), want, `${state} by ${event}`);
      }
    }
  },
);
