import t from "tap";
import { joinAgent, openConsoleSocket, startTestGateway } from "../helpers/gateway.ts";
import { ownCluster } from "../helpers/postgres.ts";
import { CapturedLog, deadline } from "../helpers/security.ts";

/**
 * A live update whose fan-out meets PostgreSQL gone (the hub reads the store to build it) is not
 * lost for good: once the database answers again, consoles get their sessions again.
 */

t.test(
  "an agent leaving while PostgreSQL is away: the console, which could not be told then, converges once the database is back",
  async (t) => {
    const cluster = await ownCluster(t, "fan-out");
    const { url } = cluster;
    const log = new CapturedLog("info");
    const gw = await startTestGateway({
      config: { databaseUrl: url },
      options: { resumeGraceMs: 600_000, log: log.logger },
    });
    t.teardown(() => gw.close());
    const alice = await gw.technician("Alice");
    const session = await gw.newSession(alice.client);
    const consoleSocket = await openConsoleSocket(alice.client);
    t.teardown(() => consoleSocket.close());
    await consoleSocket.next("sessions");
    const { socket: agent } = await joinAgent(gw.url, { kind: "pin", pin: session.pin });
    await consoleSocket.next(
      "session.updated",
      (m) => m.session.id === session.id && m.session.agent.connected,
      10_000,
    );

    cluster.stop();
    agent.close();
    await deadline(
      new Promise<void>((resolve) => {
        const check = () =>
          log.lines.some((line) => line.msg === "telling the sockets failed")
            ? resolve()
            : setImmediate(check);
        check();
      }),
      "the failed fan-out in the log",
      10_000,
    );

    await cluster.start();
    const told = await consoleSocket.waitFor(
      (m) =>
        (m.type === "sessions" && m.sessions.some((s) => s.id === session.id && !s.agent.connected)) ||
        (m.type === "session.updated" && m.session.id === session.id && !m.session.agent.connected),
      "the session without its agent",
      20_000,
    );
    t.ok(told, "the console learns the agent left");
  },
);
