/**
 * A whole support session through the TURN relay, end to end, in real network namespaces (needs
 * root: ip netns, iptables). Four hosts on the test bridge (198.18.87.0/24, tests/helpers/netns.ts),
 * nothing else reachable:
 * - `gw`: the real gateway (`signaling/cli.ts`), twice: one with the relay (`--turn-url`,
 *   `--turn-secret`), one without any TURN (the direct case); and once more with the relay and
 *   15-second TURN credentials (tests/relay/gateway-process.ts, a test-only option);
 * - `relay`: real coturn with the product's config (scripts/coturn-process.ts). No
 *   allow-loopback-peers: every peer is on 198.18.87.0/24, which the config does not deny;
 * - `agent`: the real `sos` agent (`ip netns exec`), on an Xvfb display started outside the
 *   namespace: X clients reach it through its socket file in /tmp/.X11-unix, which, unlike the
 *   abstract socket, is not tied to a network namespace;
 * - `tech`: headless Chromium with the console, started through a wrapper that runs it under
 *   `ip netns exec`, with its own HOME whose NSS database trusts the throwaway CA that signed
 *   coturn's TLS certificate (Chromium refuses `turns:` otherwise). The agent trusts it through
 *   NODE_EXTRA_CA_CERTS.
 * The console signs in as the gateway's first admin (an admin is a technician with attended access).
 *
 * Cases: the direct path blocked between agent and technician (the relay carries it on UDP, "relay
 * UDP"; a 16 MB file to the end user goes over the files connection, node-datachannel on the agent,
 * through the relay too: SHA-256 equal, a relayed selected pair in Chromium's getStats), then a
 * network where the agent reaches only the relay's TLS port (its restarts reach TLS within the
 * consent time);
 * only TCP to the relay's TLS port with all UDP dropped ("relay TLS"), then a network where the
 * agent reaches only the relay's TURN port (its restarts leave TLS for TURN/UDP); no TURN at all
 * ("direct"), and in the same session the direct path cut for a moment ("Reconnecting…", then the
 * picture on the same peer);
 * coturn restarted mid-session after the view's first TURN credential expired (the agent's ICE
 * restart allocates with the renewed one and is answered on the same peer). Each
 * checks the picture's size, a click on the X display, and the path in the audit log
 * (session.remote_path, from the console's remote.path). The agent logs at debug level; a failing
 * case prints the end of its output and what the view said.
 */
import { type ChildProcess, execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { promisify } from "node:util";
import { type Browser, chromium, type Page } from "playwright-core";
import t, { type Test } from "tap";
import { PEER_END_REASONS } from "../../agent/peer/path-watch.ts";
import { turnUrls } from "../../scripts/coturn-config.ts";
import {
  makeTurnCertificate,
  type RunningCoturn,
  type StartCoturnOptions,
  startCoturn,
} from "../../scripts/coturn-process.ts";
import { auditListSchema } from "../../shared/api.ts";
import {
  type GatewayToConsole,
  gatewayToConsoleSchema,
  type RemotePath,
} from "../../shared/console-protocol.ts";
import { createSessionInDialog, dialog, rowStatus, selectSession } from "../console/desk-page.ts";
import { CHROMIUM_ARGS, CHROMIUM_PATH, signIn } from "../helpers/browser.ts";
import {
  allowAlsoTcpTo,
  allowAlsoUdpTo,
  blockTcpTo,
  blockUdpTo,
  createTestNetwork,
  requireRoot,
  type TestNetwork,
} from "../helpers/netns.ts";
import {
  colouredWindow,
  type InputRecorder,
  inOrder,
  inputRecorder,
  pointerLocation,
  startXvfb,
  waitUntil,
  type Xvfb,
} from "../helpers/xvfb.ts";

const run = promisify(execFile);

/** The quality line's words for each path (English), back to the protocol's names. */
const PATH_OF_TEXT: Readonly<Record<string, RemotePath>> = {
  direct: "direct",
  "relay UDP": "relay-udp",
  "relay TCP": "relay-tcp",
  "relay TLS": "relay-tls",
};
requireRoot("tests/relay/relay-session.test.ts");

type Hosts = "gw" | "relay" | "agent" | "tech";
const SCREEN = { width: 1280, height: 720 };
const SECRET = "relay-session-secret-0123456789";
const TURN_PORT = 3478;
const TLS_PORT = 443;
/** The gateway with the relay, and the one without any TURN. */
const RELAYED_PORT = 8080;
const DIRECT_PORT = 8081;
const SHORT_TTL_PORT = 8082;
/** The short-TTL gateway's credential lifetime (tests only: `--turn-ttl` takes 60 s at least). */
const SHORT_TTL_S = 15;
const ADMIN = { email: "admin@example.test", password: "admin-password-1", name: "Ada Admin" };

type RemoteOpened = Extract<GatewayToConsole, { type: "remote.opened" }>;

let net: TestNetwork<Hosts>;
let dir: string;
let caFile: string;
let coturn: RunningCoturn | undefined;
let coturnOptions: StartCoturnOptions;
let xvfb: Xvfb | undefined;
let recorder: InputRecorder;
let browser: Browser | undefined;
const gateways: ChildProcess[] = [];

/** Resolves with the first line of `child`'s stdout matching `pattern`; rejects if it exits first. */
function lineOf(child: ChildProcess, pattern: RegExp, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let stderr = "";
    child.stderr?.on("data", (data: Buffer) => {
      stderr += data.toString();
    });
    if (child.stdout === null) return reject(new Error(`${what}: no stdout`));
    createInterface({ input: child.stdout }).on("line", (line) => {
      if (pattern.test(line)) resolve(line);
    });
    child.once("exit", (code) => reject(new Error(`${what} exited (${code}) first: ${stderr}`)));
  });
}

/** A gateway process inside the `gw` namespace, with the first admin; resolves once it is ready. */
async function spawnGatewayIn(port: number, args: readonly string[]): Promise<string> {
  const child = net.spawn("gw", process.execPath, args, {
    env: {
      ...process.env,
      SOS_ADMIN_EMAIL: ADMIN.email,
      SOS_ADMIN_PASSWORD: ADMIN.password,
      SOS_ADMIN_NAME: ADMIN.name,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  gateways.push(child);
  await lineOf(child, /^SOS gateway ready/, `gateway on ${port}`);
  return `http://${net.hosts.gw.ipv4}:${port}`;
}

/** The real gateway, as an admin starts it (`signaling/cli.ts`), inside the `gw` namespace. */
function startGatewayIn(port: number, extra: readonly string[]): Promise<string> {
  const url = `http://${net.hosts.gw.ipv4}:${port}`;
  return spawnGatewayIn(port, [
    "signaling/cli.ts",
    "--host",
    net.hosts.gw.ipv4,
    "--port",
    String(port),
    "--data-dir",
    join(dir, `gateway-${port}`),
    "--public-url",
    url,
    "--log-level",
    "warn",
    ...extra,
  ]);
}

/**
 * The same gateway with the relay and a TURN credential lifetime of `ttlSeconds`, below
 * `--turn-ttl`'s one-minute floor (a test-only option, tests/relay/gateway-process.ts).
 */
function startShortTtlGatewayIn(port: number, ttlSeconds: number): Promise<string> {
  const url = `http://${net.hosts.gw.ipv4}:${port}`;
  const config = {
    host: net.hosts.gw.ipv4,
    port,
    dataDir: join(dir, `gateway-${port}`),
    publicUrl: url,
    logLevel: "warn",
    admin: ADMIN,
    turnUrls: turnUrls(net.hosts.relay.ipv4, TURN_PORT, TLS_PORT),
    turnSecret: SECRET,
  };
  return spawnGatewayIn(port, [
    "tests/relay/gateway-process.ts",
    JSON.stringify(config),
    JSON.stringify({ turnTtlSeconds: ttlSeconds }),
  ]);
}

/** Chromium inside the `tech` namespace, trusting the relay's throwaway CA. */
async function launchTechBrowser(): Promise<Browser> {
  const home = join(dir, "tech-home");
  const nssdb = `sql:${join(home, ".pki", "nssdb")}`;
  await mkdir(join(home, ".pki", "nssdb"), { recursive: true });
  await run("certutil", ["-N", "-d", nssdb, "--empty-password"]);
  await run("certutil", ["-A", "-d", nssdb, "-n", "SOS test TURN CA", "-t", "C,,", "-i", caFile]);
  const wrapper = join(dir, "chromium-in-tech.sh");
  await writeFile(
    wrapper,
    `#!/bin/sh\nHOME='${home}' exec ip netns exec '${net.hosts.tech.ns}' '${CHROMIUM_PATH}' "$@"\n`,
  );
  await chmod(wrapper, 0o755);
  return chromium.launch({ executablePath: wrapper, args: CHROMIUM_ARGS, headless: true });
}

let relayedUrl = "";
let directUrl = "";
/** The gateway whose TURN credentials last SHORT_TTL_S. */
let shortTtlUrl = "";

t.before(async () => {
  net = await createTestNetwork<Hosts>(["gw", "relay", "agent", "tech"]);
  dir = await mkdtemp(join(tmpdir(), "sos-relay-session-"));
  const relay = net.hosts.relay;
  const certificate = await makeTurnCertificate(dir, { dns: ["relay.sos.test"], ips: [relay.ipv4] });
  caFile = certificate.caFile;
  coturnOptions = {
    dir,
    netns: relay.ns,
    config: {
      secret: SECRET,
      realm: "sos.test",
      port: TURN_PORT,
      tlsPort: TLS_PORT,
      certFile: certificate.certFile,
      keyFile: certificate.keyFile,
      pidFile: join(dir, "turnserver.pid"),
      listeningIps: [relay.ipv4],
      relayIps: [relay.ipv4],
    },
  };
  // Independent of each other: started together (each gateway takes seconds to start on 2 cores).
  const turn = turnUrls(relay.ipv4, TURN_PORT, TLS_PORT).flatMap((url) => ["--turn-url", url]);
  const display = startXvfb(SCREEN);
  const started = await Promise.allSettled([
    startCoturn(coturnOptions).then((running) => {
      coturn = running;
    }),
    startGatewayIn(RELAYED_PORT, [...turn, "--turn-secret", SECRET]).then((url) => {
      relayedUrl = url;
    }),
    startGatewayIn(DIRECT_PORT, []).then((url) => {
      directUrl = url;
    }),
    startShortTtlGatewayIn(SHORT_TTL_PORT, SHORT_TTL_S).then((url) => {
      shortTtlUrl = url;
    }),
    display.then(async (running) => {
      xvfb = running;
      recorder = await inputRecorder(running);
    }),
    launchTechBrowser().then((launched) => {
      browser = launched;
    }),
  ]);
  for (const outcome of started) if (outcome.status === "rejected") throw outcome.reason;
});

t.teardown(async () => {
  await browser?.close();
  for (const child of gateways) if (child.exitCode === null) child.kill("SIGTERM");
  await coturn?.stop();
  await net?.teardown();
  await xvfb?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

type AgentRun = {
  /** What it printed so far (stdout lines, then stderr), for a failing test's comment. */
  output(): string;
  /** Its stdout lines so far (what the end user reads). */
  readonly lines: readonly string[];
  child: ChildProcess;
  line(pattern: RegExp): Promise<string>;
  exited: Promise<number | null>;
};

/** The real `sos` agent in the `agent` namespace, joining by PIN; stdin answers the consent question. */
function runAgentInNamespace(t: Test, gatewayUrl: string, pin: string): AgentRun {
  if (xvfb === undefined) throw new Error("no display");
  const child = net.spawn(
    "agent",
    process.execPath,
    [
      "agent/cli.ts",
      pin,
      "--gateway",
      gatewayUrl,
      "--log-level",
      "debug",
      "--files-dir",
      join(dir, "agent-inbox"),
    ],
    {
      env: {
        ...xvfb.env,
        NODE_EXTRA_CA_CERTS: caFile,
        LANG: "C.UTF-8",
        LC_ALL: "",
        LC_MESSAGES: "",
        SOS_GATEWAY: "",
      },
      stdio: ["pipe", "pipe", "pipe"],
    },
  );
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  let stderr = "";
  child.stderr?.on("data", (data: Buffer) => {
    stderr += data.toString();
  });
  if (child.stdout !== null) {
    createInterface({ input: child.stdout }).on("line", (line) => {
      lines.push(line);
      for (const wake of waiters) wake();
    });
  }
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
      await exited;
    }
  });
  return {
    child,
    exited,
    lines,
    output: () => `${lines.join("\n")}\n${stderr}`,
    line(pattern) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = lines.find((line) => pattern.test(line));
          if (found === undefined) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(found);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`agent: no line ${pattern}; stdout: ${lines.join(" | ")}; stderr: ${stderr}`));
        }, 30_000);
        waiters.add(check);
        check();
      });
    },
  };
}

/** Where a point of the agent's screen is on the page (fit mode: letterboxed in the video box). */
async function pointOnScreen(page: Page, x: number, y: number) {
  const box = await page.locator("video").boundingBox();
  if (box === null) throw new Error("no video");
  const scale = Math.min(box.width / SCREEN.width, box.height / SCREEN.height);
  return {
    x: box.x + (box.width - SCREEN.width * scale) / 2 + x * scale,
    y: box.y + (box.height - SCREEN.height * scale) / 2 + y * scale,
  };
}

/** The picture at the right size, the path on the quality line, a click on the X display. */
async function seeAndControl(t: Test, page: Page, path: RegExp, display: Xvfb): Promise<RemotePath> {
  await page.waitForFunction(
    ([width, height]) => {
      const video = document.querySelector("video");
      return (
        video !== null &&
        video.videoWidth === width &&
        video.videoHeight === height &&
        video.getVideoPlaybackQuality().totalVideoFrames > 0
      );
    },
    [SCREEN.width, SCREEN.height] as const,
    { timeout: 60_000 },
  );
  t.pass(`the agent's screen decodes in Chromium at ${SCREEN.width}×${SCREEN.height}`);
  const quality = page.getByRole("status", { name: "Connection quality" });
  await quality.getByText(path).waitFor();
  const said = (await quality.textContent())?.split(" · ").at(-1) ?? "";
  t.pass(`the quality line says ${said}`);
  const shown = PATH_OF_TEXT[said];
  if (shown === undefined) throw new Error(`not a path: ${said}`);

  const target = { x: recorder.place.x + 150, y: recorder.place.y + 100 };
  const from = recorder.events.length;
  const at = await pointOnScreen(page, target.x, target.y);
  await page.mouse.click(at.x, at.y);
  await waitUntil(
    async () => {
      const pointer = await pointerLocation(display);
      return Math.abs(pointer.x - target.x) <= 2 && Math.abs(pointer.y - target.y) <= 2;
    },
    15_000,
    "the X pointer at the clicked place",
  );
  await recorder.until((events) => inOrder(events.slice(from), ["press:1", "release:1"]), 15_000);
  t.pass("a click on the picture lands at the same place on the agent's X display");
  return shown;
}

/**
 * One support session as a technician runs it on the gateway at `gatewayUrl`: New session, the
 * agent joins by PIN, the end user allows control, the remote view opens. Checks that the picture
 * decodes at the agent's screen size, that the quality line names the path (`path`), and that a
 * click on the picture lands at the same place on the agent's X display; then closes the session
 * and the agent ends normally.
 */
async function supportSession(
  t: Test,
  gatewayUrl: string,
  name: string,
  path: RegExp,
  /**
   * Runs once the view works, before the session is closed; `opened` is the gateway's
   * remote.opened for the view, as the console received it.
   */
  during?: (page: Page, agent: AgentRun, opened: RemoteOpened) => Promise<void>,
): Promise<void> {
  if (browser === undefined || xvfb === undefined) throw new Error("set-up failed");
  const display = xvfb;
  // Not openConsole(): its clipboard grant needs a secure origin, and this gateway is plain http on
  // a bridge address.
  const context = await browser.newContext({
    baseURL: gatewayUrl,
    locale: "en-US",
    viewport: { width: 1400, height: 900 },
  });
  t.teardown(() => context.close());
  await context.addInitScript(recordConnections);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(`pageerror: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) {
      errors.push(`console: ${message.text()}`);
    }
  });
  let opened: RemoteOpened | undefined;
  page.on("websocket", (socket) =>
    socket.on("framereceived", ({ payload }) => {
      try {
        const message = gatewayToConsoleSchema.safeParse(JSON.parse(payload.toString()));
        if (message.success && message.data.type === "remote.opened") opened = message.data;
      } catch {
        // not JSON: not a protocol message
      }
    }),
  );
  await page.goto("/");
  page.setDefaultTimeout(30_000);
  await signIn(page, ADMIN.email, ADMIN.password);
  const { pin } = await createSessionInDialog(page, name);
  const agent = runAgentInNamespace(t, gatewayUrl, pin.replaceAll(" ", ""));
  await agent.line(/Waiting for your technician/);
  await rowStatus(page, name, "Active");
  const panel = await selectSession(page, name);
  await panel.getByRole("button", { name: "Start remote session" }).click();
  await agent.line(/asks to SEE and CONTROL your screen/);
  agent.child.stdin?.write("y\n");
  await panel.getByText("Permission granted: click to connect").waitFor();
  await panel.getByRole("button", { name: "Start remote session" }).click();

  const explain = async (error: unknown): Promise<never> => {
    const stage = await page
      .locator(".stage-message, .quality")
      .allTextContents()
      .catch(() => []);
    t.comment(`console: ${stage.join(" | ")}\nagent:\n${agent.output().split("\n").slice(-40).join("\n")}`);
    throw error;
  };
  const shown = await seeAndControl(t, page, path, display).catch(explain);
  const sessionId = /#\/remote\/([^/]+)$/.exec(page.url())?.[1];
  if (sessionId === undefined) throw new Error(`not a remote view: ${page.url()}`);
  if (during !== undefined) {
    if (opened === undefined) throw new Error("the console got no remote.opened");
    await during(page, agent, opened).catch(explain);
  }

  await page.getByRole("button", { name: "Disconnect" }).click();
  await selectSession(page, name);
  await panel.getByRole("button", { name: "Close" }).click();
  await dialog(page).getByRole("button", { name: "Close session" }).click();
  await rowStatus(page, name, "Closed");
  t.equal(await agent.exited, 0, "the agent ended normally when the session was closed");
  // The console told the gateway the path (remote.path) long before the session closed.
  const answer = await page.evaluate(async (query) => {
    const response = await fetch(`/api/audit?${query}`);
    return { status: response.status, text: await response.text() };
  }, `sessionId=${sessionId}&action=session.remote_path`);
  t.equal(answer.status, 200, `the audit log answers${answer.status === 200 ? "" : `: ${answer.text}`}`);
  const audit = auditListSchema.parse(JSON.parse(answer.text));
  t.ok(
    audit.entries.some((entry) => entry.detail.path === shown),
    `the audit log records the view's path (${shown})`,
  );
  t.same(errors, [], "no errors in the technician's page");
}

/**
 * While "Reconnecting…" is on screen: waits until it goes, then until a new frame shows a change of
 * the agent's screen, on the same stream as before the break (`streamBeforeBreak`), and checks that
 * the end user was asked only once.
 */
async function pictureBack(t: Test, page: Page, agent: AgentRun): Promise<void> {
  if (xvfb === undefined) throw new Error("no display");
  await page
    .getByText("The connection was interrupted. Reconnecting…")
    .waitFor({ state: "detached", timeout: 90_000 });
  const frames = await page.evaluate(
    () => document.querySelector("video")?.getVideoPlaybackQuality().totalVideoFrames ?? 0,
  );
  // The agent sends frames when the screen changes: a window opens on it.
  const changed = await colouredWindow(xvfb, {
    x: 40,
    y: 40,
    width: 200,
    height: 120,
    colour: "orange",
    name: `sos-after-break-${frames}`,
  });
  t.teardown(() => void changed.kill());
  await page.waitForFunction(
    (before) => (document.querySelector("video")?.getVideoPlaybackQuality().totalVideoFrames ?? 0) > before,
    frames,
  );
  t.ok(
    await page.evaluate(
      () =>
        document.querySelector("video")?.srcObject ===
        (window as unknown as { streamBeforeBreak?: unknown }).streamBeforeBreak,
    ),
    "the picture comes back on the same peer (same stream)",
  );
  t.equal(
    agent.lines.filter((line) => /asks to SEE and CONTROL your screen/.test(line)).length,
    1,
    "the end user was not asked again",
  );
}

/**
 * The TURN transports of the agent's restarts that brought the path back, as it logged them (once
 * PathWatch heard the new pair: it looks once a second).
 */
function restoredOn(agent: AgentRun): unknown[] {
  return agent
    .output()
    .split("\n")
    .filter((line) => line.includes('"msg":"path restored"'))
    .map((line) => (JSON.parse(line) as { transport?: unknown }).transport);
}

/** Remembers the stream on screen, then waits for "Reconnecting…" over that picture. */
async function breakNoticed(t: Test, page: Page, breakIt: () => Promise<void>): Promise<void> {
  await page.evaluate(() => {
    Object.assign(window, { streamBeforeBreak: document.querySelector("video")?.srcObject });
  });
  await breakIt();
  await page.getByText("The connection was interrupted. Reconnecting…").waitFor({ timeout: 30_000 });
  t.ok(
    await page.evaluate(() => {
      const video = document.querySelector("video");
      return video !== null && video.srcObject !== null && video.videoWidth > 0;
    }),
    "Reconnecting… is shown over the last picture",
  );
}

/**
 * In the page: each RTCPeerConnection the console makes, with the labels of the data channels it
 * gets, as `window.sosConnections`.
 */
function recordConnections(): void {
  const seen: Array<{ connection: RTCPeerConnection; channels: string[] }> = [];
  Object.assign(window, { sosConnections: seen });
  const Native = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends Native {
    constructor(configuration?: RTCConfiguration) {
      super(configuration);
      const entry = { connection: this, channels: [] as string[] };
      seen.push(entry);
      this.addEventListener("datachannel", (event) => entry.channels.push(event.channel.label));
    }
  };
}

/** The files connection's selected candidate pair, as Chromium's getStats reports it. */
type FilesPair = { local: string; remote: string; relayProtocol: string | null; bytesSent: number };

/**
 * A file to the end user over the files connection (the agent's node-datachannel peer, with the
 * view's TURN servers), while the view runs through the relay: saved whole with the sent file's
 * SHA-256; the files connection's selected pair has a relayed candidate and carried the file.
 */
async function fileThroughRelay(t: Test, page: Page, agent: AgentRun): Promise<void> {
  const started = performance.now();
  const data = randomBytes(16 * 1024 * 1024);
  const source = join(dir, "through-relay.bin");
  await writeFile(source, data);
  await page.waitForFunction(() => {
    const input = document.querySelector<HTMLInputElement>(".files input[type=file]");
    return input !== null && !input.disabled;
  });
  await page.getByLabel("Send files to the end user").setInputFiles(source);
  await agent.line(
    /^\[File\] Saved: .*through-relay\.bin \(16\.8 MB, [\d.]+ [KMG]?B\/s, SHA-256 checked\)\.$/,
  );
  const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");
  t.equal(
    sha256(await readFile(join(dir, "agent-inbox", "through-relay.bin"))),
    sha256(data),
    "the file reached the end user with its SHA-256",
  );
  const pair = await page.evaluate(async (): Promise<FilesPair | string> => {
    const seen = (
      window as unknown as { sosConnections: Array<{ connection: RTCPeerConnection; channels: string[] }> }
    ).sosConnections;
    const files = seen.find((entry) => entry.channels.join() === "files");
    if (files === undefined)
      return `no files connection: ${JSON.stringify(seen.map((entry) => entry.channels))}`;
    const stats = await files.connection.getStats();
    let selected: string | undefined;
    stats.forEach((report: { type: string; selectedCandidatePairId?: string }) => {
      if (report.type === "transport") selected = report.selectedCandidatePairId;
    });
    const chosen = selected === undefined ? undefined : stats.get(selected);
    if (chosen === undefined) return "no selected candidate pair";
    const local = stats.get(chosen.localCandidateId);
    const remote = stats.get(chosen.remoteCandidateId);
    return {
      local: String(local?.candidateType),
      remote: String(remote?.candidateType),
      relayProtocol: local?.relayProtocol ?? null,
      bytesSent: Number(chosen.bytesSent),
    };
  });
  if (typeof pair === "string") throw new Error(pair);
  t.comment(
    `files connection's pair: ${JSON.stringify(pair)}; ${Math.round(performance.now() - started)} ms from picking the file`,
  );
  t.ok(pair.local === "relay" || pair.remote === "relay", "the files connection's path is relayed");
  t.ok(pair.bytesSent >= data.length, "the file went over that relayed pair");
}

t.test("support through the relay (root, network namespaces)", async (t) => {
  t.afterEach(async () => {
    await net.resetFirewall("agent");
    await net.resetFirewall("tech");
  });
  t.afterEach(async (t) => {
    if (!t.passing()) t.comment(`coturn log:\n${coturn?.log().split("\n").slice(-30).join("\n")}`);
  });

  t.test(
    "direct path blocked between agent and technician: connects through the relay on UDP, a file to the end user goes over the files connection through the relay too; when the agent's network then lets only the relay's TLS port through, the picture comes back within the consent window, on the same peer, without a new consent (root, network namespaces)",
    async (t) => {
      await net.blockBetween("agent", "tech");
      await supportSession(t, relayedUrl, "Blocked direct path", / · relay UDP$/, async (page, agent) => {
        // Files have a connection of their own (node-datachannel on the agent): through the relay too.
        await fileThroughRelay(t, page, agent);
        // A strict firewall (only TCP 443, as many allow): the agent's restart on TURN/UDP spends
        // werift's UDP retries and its TCP fallback to the TURN port before TLS gets its turn, and
        // all of that has to fit in the 30 s the peer lives without an answer (consent_expired).
        await breakNoticed(t, page, async () => {
          await net.resetFirewall("agent");
          await net.allowOnlyTcpTo("agent", "relay", TLS_PORT);
          await allowAlsoTcpTo(net, "agent", "gw", RELAYED_PORT);
          // The old flows to the relay (its TURN port, the technician's relayed address) are
          // established, and the strict firewall lets established flows pass: a new network's
          // would not.
          await blockUdpTo(net, "agent", "relay");
        });
        await pictureBack(t, page, agent);
        await waitUntil(async () => restoredOn(agent).length > 0, 10_000, "the agent's path restored");
        t.same(restoredOn(agent), ["tls"], "the agent's restart that brought it back was on TURN/TLS");
        t.notOk(agent.output().includes(PEER_END_REASONS.consentExpired), "the peer did not end");
      });
    },
  );

  t.test(
    "only TCP to the relay's TLS port, UDP dropped everywhere: connects over TURN/TLS; when the agent's network then lets only the relay's TURN port through, not its TLS port, the ICE restarts leave TLS and the picture comes back (root, network namespaces)",
    async (t) => {
      for (const host of ["agent", "tech"] as const) {
        await net.allowOnlyTcpTo(host, "relay", TLS_PORT);
        await allowAlsoTcpTo(net, host, "gw", RELAYED_PORT);
      }
      await supportSession(t, relayedUrl, "Strict firewall", / · relay TLS$/, async (page, agent) => {
        // Another network: the agent reaches the relay on UDP and TCP 3478 only, so it needs an
        // allocation of its own there; the technician anything but the agent and the TLS port. The
        // path worked on the last TURN transport and the agent's restarts must not stay there (they
        // did: the attempt only moved forward, and the view ended consent_expired).
        await breakNoticed(t, page, async () => {
          await net.resetFirewall("agent");
          await net.allowOnlyTcpTo("agent", "relay", TURN_PORT);
          await allowAlsoUdpTo(net, "agent", "relay", TURN_PORT);
          await allowAlsoTcpTo(net, "agent", "gw", RELAYED_PORT);
          await net.resetFirewall("tech");
          await net.blockBetween("agent", "tech");
          for (const host of ["agent", "tech"] as const) await blockTcpTo(net, host, "relay", TLS_PORT);
        });
        await pictureBack(t, page, agent);
        await waitUntil(async () => restoredOn(agent).length > 0, 10_000, "the agent's path restored");
        t.same(restoredOn(agent), ["udp"], "the agent's restart that brought it back was on TURN/UDP");
      });
    },
  );

  t.test(
    "without any TURN configured, the direct path works; when it breaks mid-session: Reconnecting… over the last picture, then the picture again on the same peer without a new consent (root, network namespaces)",
    async (t) => {
      // One session for both: the break starts from a checked direct view (picture, path, click).
      await supportSession(t, directUrl, "Path breaks", / · direct$/, async (page, agent) => {
        await breakNoticed(t, page, () => net.blockBetween("agent", "tech"));
        await net.resetFirewall("agent");
        await net.resetFirewall("tech");
        await pictureBack(t, page, agent);
      });
    },
  );

  t.test(
    "the relay restarts mid-session, after the view's first TURN credential expired: the agent restarts ICE allocating with the renewed credential, the console answers on the same peer, the picture comes back without a new consent (root, network namespaces)",
    async (t) => {
      // Renewed at 80 % (12 s), so the first credential has expired before the relay restarts.
      await net.blockBetween("agent", "tech");
      await supportSession(
        t,
        shortTtlUrl,
        "Relay restarts late",
        / · relay (UDP|TCP|TLS)$/,
        async (page, agent, opened) => {
          // What this pins (tried by disabling each end's use of the renewal): with the console
          // ignoring remote.ice, or both ends ignoring theirs, the picture does not come back; with
          // only the agent ignoring peer.ice it does (the console's fresh relay candidate suffices).
          // The view's first credential expires when its username says (unix seconds, then the peer).
          const username = opened.iceServers.find((server) => server.username !== undefined)?.username;
          const firstExpiredBy = Number(username?.split(":")[0]) * 1000;
          if (!Number.isFinite(firstExpiredBy)) throw new Error(`no TURN username: ${username}`);
          await waitUntil(
            async () => agent.output().includes('"msg":"TURN credential renewed"'),
            SHORT_TTL_S * 1000 + 15_000,
            "the agent's renewed TURN credential (peer.ice)",
          );
          t.pass("the agent got a renewed TURN credential while the view was open");
          // Nothing to await but the clock: the relay must restart after the first credential expired.
          await new Promise((resolve) =>
            setTimeout(resolve, Math.max(0, firstExpiredBy + 1_000 - Date.now())),
          );
          await breakNoticed(t, page, async () => {
            await coturn?.stop();
            coturn = await startCoturn(coturnOptions);
          });
          await pictureBack(t, page, agent);
        },
      );
    },
  );
});
