import { connect } from "node:net";
import t, { type Test } from "tap";
import { startTestGateway } from "../../helpers/gateway.ts";
import { CapturedLog, deadline, httpText, type LogLine, rawHttp } from "../../helpers/security.ts";

/**
 * Log flooding by anonymous clients: a client's mistakes are logged at a low level, without stack
 * traces, within a small budget per address, so one client cannot fill the gateway's disk or bury
 * real faults. (Before: every invalid WebSocket frame wrote an error with its stack, about 1 KiB.)
 */

/** The most the client-fault lines of one address may take, whatever it sends. */
const BUDGET_BYTES = 16 * 1024;

const KEY = "dGhlIHNhbXBsZSBub25jZQ==";
const MASK = [1, 2, 3, 4];
/** Frames the WebSocket layer refuses, each a different fault. */
const INVALID_FRAMES = [
  Buffer.from([0x81, 0x01, 0x61]), // unmasked client frame
  Buffer.from([0x83, 0x80, ...MASK]), // reserved opcode
  Buffer.from([0xf1, 0x80, ...MASK]), // RSV bits set
  Buffer.from([0x81, 0x81, ...MASK, 0xff ^ 1]), // text that is not UTF-8
  Buffer.from([0x09, 0x80, ...MASK]), // fragmented ping
];

/** Upgrades /ws/agent and sends one invalid frame in the same write; resolves when the gateway closes. */
function invalidFrame(port: number, frame: Buffer): Promise<void> {
  const socket = connect(port, "127.0.0.1");
  const closed = new Promise<void>((resolve) => {
    socket.on("error", () => resolve());
    socket.on("close", () => resolve());
    socket.resume();
  });
  const upgrade = httpText("GET", "/ws/agent", {
    headers: {
      connection: "Upgrade",
      upgrade: "websocket",
      "sec-websocket-version": "13",
      "sec-websocket-key": KEY,
    },
  });
  socket.write(Buffer.concat([Buffer.from(upgrade), frame]));
  return deadline(closed, "the close after an invalid frame");
}

/** Runs `task` `count` times, `parallel` at a time. */
async function repeat(count: number, parallel: number, task: (index: number) => Promise<unknown>) {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next;
      next += 1;
      await task(index);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}

function checkBounded(t: Test, lines: LogLine[], what: string) {
  t.same(
    lines.filter((line) => line.level >= 40).map((line) => line.msg),
    [],
    `${what}: nothing at warn or error level`,
  );
  t.notOk(
    lines.some((line) => line.text.includes('"stack"')),
    `${what}: no stack traces`,
  );
  const bytes = lines.reduce((sum, line) => sum + line.text.length + 1, 0);
  t.ok(bytes <= BUDGET_BYTES, `${what}: ${bytes} bytes of log, at most ${BUDGET_BYTES}`);
  t.ok(
    lines.some((line) => line.fields.address === "127.0.0.1"),
    `${what}: the first faults are logged, with the address`,
  );
}

t.test("1,000 invalid WebSocket frames from one address write a bounded, low-level log", async (t) => {
  const log = new CapturedLog("debug");
  const gw = await startTestGateway({ options: { log: log.logger } });
  t.teardown(() => gw.close());
  const port = Number(new URL(gw.url).port);
  const before = log.lines.length;
  await repeat(1000, 20, (index) =>
    invalidFrame(port, INVALID_FRAMES[index % INVALID_FRAMES.length] ?? Buffer.alloc(0)),
  );
  const written = log.besidesAccess(before);
  checkBounded(t, written, "1,000 invalid frames");
  t.ok(
    written.some((line) => /suppress/.test(line.msg)),
    "the log says that further faults from the address are suppressed",
  );
  t.equal((await gw.anonymous().get("/healthz")).status, 200, "the gateway still answers");
});

t.test("malformed requests and chunked bodies write a bounded log with no errors", async (t) => {
  // At warn level Node never reads the client's address for a request log line, so a request whose
  // connection the parser already closed has none: that is when the rate limiter's key broke.
  const quiet = new CapturedLog("warn");
  const gw = await startTestGateway({ options: { log: quiet.logger } });
  t.teardown(() => gw.close());
  const chunked = httpText("POST", "/api/auth/sign-in", {
    headers: { "transfer-encoding": "chunked", "content-type": "application/json" },
    body: "zz\r\nabc\r\n0\r\n\r\n",
  });
  await repeat(200, 10, () => rawHttp(gw.url, chunked));
  t.same(
    quiet.lines.map((line) => line.msg),
    [],
    "200 malformed chunked bodies: nothing at warn or error level",
  );

  const log = new CapturedLog("debug");
  const verbose = await startTestGateway({ options: { log: log.logger } });
  t.teardown(() => verbose.close());
  const before = log.lines.length;
  await repeat(300, 10, (index) => rawHttp(verbose.url, index % 2 === 0 ? "GARBAGE\r\n\r\n" : chunked));
  const written = log.besidesAccess(before);
  checkBounded(t, written, "300 malformed requests");
});

/** A sign-in whose body never comes whole: the client says it sends 100 bytes, sends 3, and leaves. */
async function cutShort(url: string, forwardedFor: string): Promise<void> {
  const { port } = new URL(url);
  const socket = connect(Number(port), "127.0.0.1");
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", () => resolve());
    socket.once("error", reject);
  });
  socket.on("error", () => undefined);
  const head = httpText("POST", "/api/auth/sign-in", {
    headers: { "content-length": "100", "x-forwarded-for": forwardedFor },
    body: '{"a',
  });
  await new Promise<void>((resolve) => socket.write(head, () => resolve()));
  await new Promise<void>((resolve) => setTimeout(resolve, 20));
  socket.destroy();
}

t.test(
  "behind a trusted proxy the client-fault budget is each client's (X-Forwarded-For), not the proxy's",
  async (t) => {
    const log = new CapturedLog("debug");
    const gw = await startTestGateway({
      config: { trustProxy: ["127.0.0.1"] },
      options: { log: log.logger },
    });
    t.teardown(() => gw.close());
    const waitForLine = (match: (line: LogLine) => boolean, what: string) =>
      deadline(
        new Promise<void>((resolve) => {
          const started = Date.now();
          const check = () => {
            if (log.lines.some(match)) resolve();
            else if (Date.now() - started < 10_000) setTimeout(check, 10);
          };
          check();
        }),
        what,
        10_000,
      );
    // One client behind the proxy uses up its budget (10 lines per window)...
    const noisy = "203.0.113.1";
    for (let i = 0; i < 12; i += 1) await cutShort(gw.url, noisy);
    await waitForLine(
      (line) => /suppressed for a while/.test(line.msg) && line.fields.address === noisy,
      "the noisy client's faults suppressed, under its own address",
    );
    // ...and another one's fault is still logged, under its own address.
    const other = "203.0.113.2";
    await cutShort(gw.url, other);
    await waitForLine(
      (line) => line.msg === "client fault" && line.fields.address === other,
      "the other client's fault",
    );
    t.notOk(
      log.lines.some((line) => line.fields.fault === "ECONNRESET" && line.fields.address === "127.0.0.1"),
      "no request cut short is put on the proxy's address",
    );
  },
);
