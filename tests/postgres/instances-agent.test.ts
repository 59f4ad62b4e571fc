import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import t from "tap";
import { startGateway } from "../../signaling/main.ts";
import { connectTechnician, permission, requestPermission, runAgent } from "../agent/e2e-support.ts";
import { ADMIN, ApiClient, openConsoleSocket, startTestGateway } from "../helpers/gateway.ts";
import { freshDatabase } from "../helpers/postgres.ts";
import type { DecodedFrame } from "../helpers/technician-peer.ts";
import { startXvfb } from "../helpers/xvfb.ts";

/**
 * The real agent (`sos`, under Xvfb) on one gateway instance and a technician on another, both on
 * one PostgreSQL database: the end user is asked on screen, answers, and the technician's werift
 * peer decodes the agent's screen, every signal having crossed between the instances.
 */

const xvfb = await startXvfb({ width: 640, height: 480 });
t.teardown(() => xvfb.stop());
const database = await freshDatabase();
const a = await startTestGateway({ config: { databaseUrl: database.url, organizationName: "Acme IT" } });
const dataDirB = mkdtempSync(join(tmpdir(), "sos-gateway-b-"));
const b = await startGateway({
  port: 0,
  host: "127.0.0.1",
  dataDir: dataDirB,
  databaseUrl: database.url,
  logLevel: "silent",
  admin: ADMIN,
});
t.teardown(async () => {
  await b.close();
  await a.close();
  rmSync(dataDirB, { recursive: true, force: true });
  await database.drop();
});

t.test(
  "the real agent joins instance A; a technician on B is granted the view and decodes the screen",
  async (t) => {
    const alice = await a.technician("Alice");
    const session = await a.newSession(alice.client);
    const aliceOnB = new ApiClient(b.url);
    aliceOnB.cookie = alice.client.cookie;
    aliceOnB.csrfToken = alice.client.csrfToken;
    const consoleB = await openConsoleSocket(aliceOnB);
    t.teardown(() => consoleB.close());
    await consoleB.next("sessions");

    const agent = runAgent(t, xvfb, [session.pin, "--gateway", a.url]);
    await consoleB.next(
      "session.updated",
      (m) => m.session.id === session.id && m.session.agent.connected,
      15_000,
    );
    await requestPermission(aliceOnB, session.id);
    t.match(
      await agent.line(/asks to SEE and CONTROL your screen/),
      /Alice/,
      "the question asked on B is on A's screen",
    );
    agent.type("v");
    t.equal(await permission(consoleB, session.id, alice.id, "granted"), "view", "the answer reaches B");

    const { technician } = await connectTechnician(t, consoleB, session.id);
    const frame = await new Promise<DecodedFrame>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no frame decoded within 20 s")), 20_000);
      technician.once("frame", (decoded) => {
        clearTimeout(timer);
        resolve(decoded);
      });
    });
    t.same(
      { width: frame.width, height: frame.height },
      { width: 640, height: 480 },
      "the screen, decoded on B's side",
    );

    agent.type("q");
    t.match(await agent.exited, { code: 0 });
  },
);
