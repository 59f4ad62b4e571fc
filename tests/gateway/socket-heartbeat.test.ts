import t from "tap";
import type { WebSocket } from "ws";
import { openAgentSocket, openConsoleSocket, startTestGateway } from "../helpers/gateway.ts";
import { deadline } from "../helpers/security.ts";

/**
 * The socket heartbeat (realtime/heartbeat.ts): the gateway pings every socket each interval and
 * terminates one that did not answer the previous ping; one that answers stays open.
 */

/** Resolves once `socket` has been pinged `count` times from now. */
function pings(socket: WebSocket, count: number): Promise<void> {
  let seen = 0;
  return new Promise((resolve) => {
    const onPing = () => {
      seen += 1;
      if (seen < count) return;
      socket.off("ping", onPing);
      resolve();
    };
    socket.on("ping", onPing);
  });
}

t.test("a socket that stops answering pings is terminated; one that answers stays", async (t) => {
  // 300 ms: room for a busy machine to answer between two pings.
  const gw = await startTestGateway({ options: { heartbeatMs: 300, helloTimeoutMs: 60_000 } });
  t.teardown(() => gw.close());
  const answering = await openAgentSocket(gw.url);
  // ws answers pings itself unless told not to: this client never pongs.
  const silent = await openAgentSocket(gw.url, {}, { autoPong: false });
  const technician = await openConsoleSocket(gw.admin);

  const gone = await deadline(silent.closed, "the silent socket's close", 15_000);
  t.equal(gone.code, 1006, "terminated, not closed with a reason");
  // Three more intervals after the silent one was cut: the answering sockets were pinged and kept.
  const cut = (name: string, closed: Promise<{ code: number }>) =>
    closed.then(({ code }) => Promise.reject(new Error(`the answering ${name} socket was closed (${code})`)));
  await deadline(
    Promise.race([
      Promise.all([pings(answering.socket, 3), pings(technician.socket, 3)]),
      cut("agent", answering.closed),
      cut("console", technician.closed),
    ]),
    "three more pings",
    15_000,
  );
  t.equal(answering.socket.readyState, answering.socket.OPEN, "the answering agent socket stays open");
  t.equal(technician.socket.readyState, technician.socket.OPEN, "the answering console socket stays open");
});
