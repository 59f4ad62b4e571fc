import t, { type Test } from "tap";
import {
  errorCode,
  field,
  JoinRefused,
  joinAgent,
  openConsoleSocket,
  startTestGateway,
  TEST_DEVICE,
} from "../../helpers/gateway.ts";

/**
 * Terminal escape injection: names typed by technicians and admins are printed in the end user's
 * terminal by the SOS agent, and what an agent reports is shown to technicians. The gateway
 * refuses control characters, DEL and bidi controls in them at the door (400 BAD_REQUEST, nothing
 * changed); the agent makes whatever still arrives inert (tests/agent/e2e-terminal-escapes).
 */

const HOSTILE = {
  "CSI erase line": "Printer\u001b[2K\rIT desk: verified",
  "carriage return": "Printer\rIT desk: verified",
  "bidi override": "Printer \u202eyfirev",
  "8-bit CSI": "Printer \u009b2K",
  "concealed text": "\u001b[8mhidden",
  "OSC title": "\u001b]0;title\u0007Printer",
  "backspaces and DEL": "Printer\b\b\b\u007f",
  "line separator": "Printer\u2028IT desk",
  "first-strong isolate": "Printer\u2068x\u2069",
  "trailing line feed": "Printer\n",
} as const;

async function refused(
  t: Test,
  response: Promise<{ status: number; body: unknown }>,
  what: string,
): Promise<void> {
  const answer = await response;
  t.equal(answer.status, 400, `${what}: 400`);
  t.equal(errorCode(answer.body), "BAD_REQUEST", `${what}: BAD_REQUEST`);
}

t.test("names with control characters, DEL or bidi controls are refused and change nothing", async (t) => {
  const gw = await startTestGateway();
  t.teardown(() => gw.close());
  const tom = await gw.technician("Tom");
  const channel = await gw.admin.post("/api/channels", { name: "Helpdesk", access: [tom.id] });
  t.equal(channel.status, 200);
  const channelId = field(channel.body, "channel", "id");
  const snapshot = async () => ({
    technicians: (await gw.admin.get("/api/technicians")).body,
    channels: (await gw.admin.get("/api/channels")).body,
    sessions: (await gw.admin.get("/api/sessions")).body,
    organization: (await gw.admin.get("/api/organization")).body,
  });
  const before = await snapshot();

  for (const [kind, name] of Object.entries(HOSTILE)) {
    await refused(t, gw.admin.post("/api/sessions", { channelId: "home", name }), `${kind}: new session`);
    // A note may hold line feeds (it is multi-line); everything else here is refused in it too.
    if (kind !== "trailing line feed") {
      await refused(
        t,
        gw.admin.post("/api/sessions", { channelId: "home", name: "Printer", note: name }),
        `${kind}: new session's note`,
      );
    }
    await refused(
      t,
      gw.admin.post("/api/technicians", { email: "eve@example.test", name, password: "eve-password-1" }),
      `${kind}: new technician`,
    );
    await refused(t, gw.admin.patch(`/api/technicians/${tom.id}`, { name }), `${kind}: renamed technician`);
    await refused(t, gw.admin.post("/api/channels", { name }), `${kind}: new channel`);
    await refused(t, gw.admin.patch(`/api/channels/${channelId}`, { name }), `${kind}: renamed channel`);
    await refused(t, gw.admin.patch("/api/organization", { name }), `${kind}: renamed organization`);
  }
  t.same(await snapshot(), before, "no technician, channel, session or organization changed");
});

t.test("a session note may have several lines and tabs, but no other control characters", async (t) => {
  const gw = await startTestGateway();
  t.teardown(() => gw.close());
  const created = await gw.admin.post("/api/sessions", {
    channelId: "home",
    name: "Printer",
    note: "Ticket 42\n\tcalls back after 3 pm",
  });
  t.equal(created.status, 200);
  t.equal(field(created.body, "session", "note"), "Ticket 42\n\tcalls back after 3 pm");
  await refused(
    t,
    gw.admin.post("/api/sessions", { channelId: "home", name: "Printer", note: "Ticket\r\n42" }),
    "a carriage return in a note",
  );
});

t.test("ordinary names in any script still pass (joiners, accents, RTL letters)", async (t) => {
  const gw = await startTestGateway();
  t.teardown(() => gw.close());
  for (const name of ["Zoë Ødegård", "محمد", "می‌خواهم", "Team 👩‍💻", "Jürgen & Co. <IT>"]) {
    const created = await gw.admin.post("/api/sessions", { channelId: "home", name });
    t.equal(created.status, 200, name);
    t.equal(field(created.body, "session", "name"), name, `${name}: stored as typed`);
  }
});

t.test("an agent hello with control or bidi characters in its device info is refused", async (t) => {
  const gw = await startTestGateway();
  t.teardown(() => gw.close());
  const tech = await gw.technician("Tom");
  const session = await gw.newSession(tech.client);
  const consoleSocket = await openConsoleSocket(tech.client);
  t.teardown(() => consoleSocket.close());

  for (const [key, value] of [
    ["hostname", HOSTILE["CSI erase line"]],
    ["user", HOSTILE["bidi override"]],
    ["os", HOSTILE["8-bit CSI"]],
    ["agentVersion", HOSTILE["carriage return"]],
  ] as const) {
    const joined = joinAgent(gw.url, { kind: "pin", pin: session.pin }, { ...TEST_DEVICE, [key]: value });
    const error = await joined.then(
      () => undefined,
      (reason: unknown) => reason,
    );
    t.ok(error instanceof JoinRefused, `${key}: the hello is refused`);
    t.equal(error instanceof JoinRefused ? error.code : undefined, "BAD_REQUEST", `${key}: BAD_REQUEST`);
  }
  const view = await tech.client.get(`/api/sessions/${session.id}`);
  t.match(
    view.body,
    { session: { status: "Waiting", agent: { connected: false, device: null } } },
    "the session is still Waiting, with no device stored",
  );

  const { socket } = await joinAgent(gw.url, { kind: "pin", pin: session.pin });
  t.teardown(() => socket.close());
  t.pass("the same PIN still joins with plain device info");
});
