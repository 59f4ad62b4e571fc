/**
 * End-to-end plumbing for the agent's tests: the real `sos` command as a child process (stdin for
 * the end user's answers, stdout lines to wait on, the exit code), and a technician made of the
 * gateway's console socket plus a werift peer whose signaling goes through the gateway.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { gatewayToConsoleSchema } from "../../shared/console-protocol.ts";
import { decodeMessage } from "../../shared/decode.ts";
import type { AccessMode } from "../../shared/status.ts";
import {
  type ApiClient,
  type ConsoleSocket,
  errorCode,
  openConsoleSocket,
  startTestGateway,
  type TestGateway,
} from "../helpers/gateway.ts";
import { TestTechnician } from "../helpers/technician-peer.ts";
import type { Xvfb } from "../helpers/xvfb.ts";

/** Where cleanups go: a tap test, or the benchmark's own list. */
export type Teardown = { teardown(fn: () => unknown): void };

export type AgentProcess = {
  readonly child: ChildProcessWithoutNullStreams;
  readonly lines: string[];
  readonly stderr: () => string;
  /** Resolves with the first stdout line (seen or to come) matching `pattern`. */
  line(pattern: RegExp, deadlineMs?: number): Promise<string>;
  /** Types a line as the end user. */
  type(text: string): void;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
};

/** Runs `sos <args>` under the Xvfb display, in English, with stdin as a pipe (non-interactive). */
export function runAgent(
  t: Teardown,
  xvfb: Xvfb,
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): AgentProcess {
  const child = spawn(process.execPath, ["agent/cli.ts", ...args], {
    env: { ...xvfb.env, LANG: "C.UTF-8", LC_ALL: "", LC_MESSAGES: "", SOS_GATEWAY: "", ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  let stderr = "";
  child.stderr.on("data", (data: Buffer) => {
    stderr += data.toString();
  });
  createInterface({ input: child.stdout }).on("line", (line) => {
    lines.push(line);
    for (const wake of waiters) wake();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
      await exited;
    }
  });
  return {
    child,
    lines,
    stderr: () => stderr,
    line(pattern, deadlineMs = 15_000) {
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
          reject(
            new Error(
              `no line ${pattern} in ${deadlineMs} ms; stdout: ${lines.join(" | ")}; stderr: ${stderr}`,
            ),
          );
        }, deadlineMs);
        waiters.add(check);
        check();
      });
    },
    type(text) {
      child.stdin.write(`${text}\n`);
    },
    exited,
  };
}

export type Desk = {
  readonly gw: TestGateway;
  readonly alice: { client: ApiClient; id: string };
  readonly session: { id: string; pin: string; link: string; token: string };
  readonly console: ConsoleSocket;
};

/** A gateway with technician Alice, her session, and her console socket. */
export async function openDesk(t: Teardown): Promise<Desk> {
  const gw = await startTestGateway({ config: { organizationName: "Acme IT" } });
  t.teardown(() => gw.close());
  const alice = await gw.technician("Alice");
  const session = await gw.newSession(alice.client);
  const console = await openConsoleSocket(alice.client);
  t.teardown(() => console.close());
  return { gw, alice, session, console };
}

/** Waits until the session shows the agent as connected (status Active). */
export async function agentJoined(desk: Desk): Promise<void> {
  await desk.console.next(
    "session.updated",
    (m) => m.session.id === desk.session.id && m.session.agent.connected,
    15_000,
  );
}

/**
 * Runs the agent on `desk`'s session (by PIN) and has Alice click "Start remote session";
 * resolves once the question is on the agent's screen.
 */
export async function agentAsked(
  t: Teardown,
  xvfb: Xvfb,
  desk: Desk,
  extraArgs: readonly string[] = [],
): Promise<AgentProcess> {
  const agent = runAgent(t, xvfb, [desk.session.pin, "--gateway", desk.gw.url, ...extraArgs]);
  await agentJoined(desk);
  await requestPermission(desk.alice.client, desk.session.id);
  await agent.line(/asks to SEE and CONTROL your screen/);
  return agent;
}

/**
 * "Start remote session": asks the end user (for control unless `access` says view only); resolves
 * once the request was accepted by the gateway.
 */
export async function requestPermission(
  client: ApiClient,
  sessionId: string,
  access?: AccessMode,
): Promise<void> {
  const response = await client.post(
    `/api/sessions/${sessionId}/permission`,
    access === undefined ? undefined : { access },
  );
  if (response.status !== 200) throw new Error(`permission request refused: ${errorCode(response.body)}`);
}

/** Waits for the technician's permission on the session to reach `state`. */
export async function permission(
  socket: ConsoleSocket,
  sessionId: string,
  technicianId: string,
  state: "granted" | "denied" | "revoked",
): Promise<AccessMode | null> {
  const update = await socket.next(
    "session.updated",
    (m) =>
      m.session.id === sessionId &&
      m.session.permissions.some((p) => p.technicianId === technicianId && p.state === state),
    15_000,
  );
  return update.session.permissions.find((p) => p.technicianId === technicianId)?.access ?? null;
}

/**
 * The end user answers the question on screen (`y` control, `v` view only), the grant reaches the
 * gateway, and Alice opens the remote view with a werift technician.
 */
export async function grantedTechnician(
  t: Teardown,
  desk: Desk,
  agent: AgentProcess,
  answer: "y" | "v" = "y",
  options: { keepPixels?: boolean } = {},
): Promise<{ technician: TestTechnician; peerId: string; access: AccessMode }> {
  agent.type(answer);
  await permission(desk.console, desk.session.id, desk.alice.id, "granted");
  return connectTechnician(t, desk.console, desk.session.id, options);
}

/**
 * Opens the remote view: `remote.connect` on the console socket, and a werift technician whose
 * answer and candidates go back through the gateway.
 */
export async function connectTechnician(
  t: Teardown,
  socket: ConsoleSocket,
  sessionId: string,
  options: { keepPixels?: boolean } = {},
): Promise<{ technician: TestTechnician; peerId: string; access: AccessMode }> {
  const technician = new TestTechnician(options);
  t.teardown(() => technician.close());
  technician.on("signal", (data) => socket.send({ type: "signal", sessionId, data }));
  const relay = (raw: Buffer) => {
    const decoded = decodeMessage(gatewayToConsoleSchema, raw.toString());
    if (decoded.ok && decoded.value.type === "remote.signal" && decoded.value.sessionId === sessionId) {
      void technician.handleSignal(decoded.value.data);
    }
  };
  socket.socket.on("message", relay);
  t.teardown(() => void socket.socket.off("message", relay));
  socket.send({ type: "remote.connect", sessionId });
  const opened = await socket.next("remote.opened", (m) => m.sessionId === sessionId, 15_000);
  return { technician, peerId: opened.peerId, access: opened.access };
}
