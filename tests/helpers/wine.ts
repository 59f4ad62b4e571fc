/**
 * A test-environment shim, not part of the product: runs Windows programs under Debian's Wine 8
 * (`wine64`) on an Xvfb display, so the win-x64 build can be exercised on this Linux machine.
 * Wine is not Windows; a test passing here says the build starts and its addons load, not that
 * Windows behaves the same.
 *
 * A prefix (Windows 10 version, about 15 s to make: wineboot copies some 700 MB of Wine's DLLs) is
 * made once per machine and kept in a cache folder named by the hash of its inputs (Wine's version,
 * the forwarders' sources, the settings below, the user), made in a temporary folder and renamed
 * into place, so test files running at once on one machine neither wait for nor break each other.
 * Each test file works on a copy of its own (the DLLs hard-linked, the rest copied: under a second)
 * with its own wineserver, kept running while the file runs (and a minute after its last program,
 * should the file die without stopping it). The prefix carries two small forwarding
 * DLLs that Wine 8 lacks and Node's addons import, written here from the Windows API documentation
 * and compiled with Debian's gcc-mingw-w64-x86-64:
 * - bcryptprimitives.dll: ProcessPrng, filled by advapi32's SystemFunction036 (RtlGenRandom);
 * - api-ms-win-core-synch-l1-2-0.dll: WaitOnAddress, WakeByAddressSingle, WakeByAddressAll,
 *   forwarded to kernelbase, which Wine 8 implements.
 * Programs run under `script` (util-linux) on a pty: a Windows Node under Wine cannot write to a
 * Linux pipe (EBADF at start), a pty works.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import {
  copyFileSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { basename, join, relative, resolve } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

const PRNG_SOURCE = `/* bcryptprimitives.dll for Wine 8: ProcessPrng (documented: always returns TRUE). */
#include <windows.h>
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);
__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
  while (length > 0) {
    ULONG chunk = length > 0x40000000 ? 0x40000000 : (ULONG)length;
    SystemFunction036(data, chunk);
    data += chunk;
    length -= chunk;
  }
  return TRUE;
}
BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID reserved) {
  (void)instance; (void)reason; (void)reserved;
  return TRUE;
}
`;

const SYNCH_SOURCE = `/* api-ms-win-core-synch-l1-2-0.dll for Wine 8: the exports are forwarders (see the .def). */
#include <windows.h>
BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID reserved) {
  (void)instance; (void)reason; (void)reserved;
  return TRUE;
}
`;

const SYNCH_DEF = `LIBRARY api-ms-win-core-synch-l1-2-0.dll
EXPORTS
  WaitOnAddress=kernelbase.WaitOnAddress
  WakeByAddressSingle=kernelbase.WakeByAddressSingle
  WakeByAddressAll=kernelbase.WakeByAddressAll
`;

/** The DLL overrides that make Wine load our forwarders instead of failing on the missing ones. */
export const WINE_DLL_OVERRIDES = "bcryptprimitives,api-ms-win-core-synch-l1-2-0=n;mscoree,mshtml=";

export type WineRun = {
  /** Output so far, with terminal escapes and carriage returns removed. */
  output(): string;
  /** Resolves with the first output line matching `pattern`; rejects after `timeoutMs` or at exit. */
  line(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Types a line into the program's console. */
  type(text: string): void;
  /** Resolves with the exit code (`script -e` passes the program's on). */
  exited: Promise<number | null>;
  kill(): void;
};

export type Wine = {
  readonly prefix: string;
  /** The environment a Windows program gets: the display, the prefix, the overrides. */
  readonly env: NodeJS.ProcessEnv;
  /** Runs `program` (a Linux path to a .exe) with `args` on a pty; `env` adds variables. */
  start(
    program: string,
    args: readonly string[],
    options?: { env?: NodeJS.ProcessEnv; cwd?: string },
  ): WineRun;
  /** Runs a program to its end (bounded by `timeoutMs`) and returns its code and output. */
  run(
    program: string,
    args: readonly string[],
    options?: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number },
  ): Promise<{ code: number | null; output: string }>;
  /** The Windows path (Z:\...) of a Linux path. */
  windowsPath(path: string): string;
  stop(): Promise<void>;
};

/** Whether this machine has what the harness needs (scripts/setup-system.sh installs it). */
export async function wineAvailable(): Promise<string | undefined> {
  for (const tool of ["wine", "wineserver", "x86_64-w64-mingw32-gcc", "script"]) {
    try {
      await run("sh", ["-c", `command -v ${tool}`]);
    } catch {
      return `${tool} is not installed (scripts/setup-system.sh)`;
    }
  }
  return undefined;
}

async function compileForwarders(dir: string): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "prng.c"), PRNG_SOURCE);
  writeFileSync(join(dir, "synch.c"), SYNCH_SOURCE);
  writeFileSync(join(dir, "synch.def"), SYNCH_DEF);
  const gcc = "x86_64-w64-mingw32-gcc";
  const prng = join(dir, "bcryptprimitives.dll");
  const synch = join(dir, "api-ms-win-core-synch-l1-2-0.dll");
  await run(gcc, ["-shared", "-O2", "-s", "-o", prng, join(dir, "prng.c"), "-ladvapi32"]);
  await run(gcc, ["-shared", "-O2", "-s", "-o", synch, join(dir, "synch.c"), join(dir, "synch.def")]);
  return [prng, synch];
}

const ESC = String.fromCharCode(0x1b);
const BEL = String.fromCharCode(0x07);
/** OSC (window title), CSI (cursor, colour) and charset escapes, as Wine's console writes them. */
const TERMINAL_ESCAPES = new RegExp(
  [
    `${ESC}\\][^${BEL}${ESC}]*(?:${BEL}|${ESC}\\\\)`,
    `${ESC}\\[[0-9;?]*[ -/]*[@-~]`,
    `${ESC}[()][0-9A-Za-z]`,
  ].join("|"),
  "g",
);

/** Removes terminal escapes and carriage returns that Wine's console writes on a pty. */
export function plainOutput(text: string): string {
  return text.replace(TERMINAL_ESCAPES, "").replaceAll("\r", "");
}

function shellQuote(word: string): string {
  return `'${word.replaceAll("'", "'\\''")}'`;
}

/** With SOS_WINE_TRACE=1, each set-up step's time on stderr (where a slow test file spends it). */
function tracer(): (step: string) => void {
  if (process.env.SOS_WINE_TRACE !== "1") return () => undefined;
  let last = performance.now();
  return (step) => {
    const now = performance.now();
    process.stderr.write(`wine: ${step}: ${Math.round(now - last)} ms\n`);
    last = now;
  };
}

/** Where prepared prefixes are kept between test files on this machine. */
const PREFIX_CACHE = join(tmpdir(), "sos-wine-prefixes");
/** Changes when the steps below change what a prepared prefix holds. */
const PREFIX_RECIPE = "win64 prefix; HKCU\\Software\\Wine Version=win10; forwarders in system32; v1";

/**
 * Runs a Wine tool to its exit with no stdio: Wine's background processes (services.exe,
 * explorer.exe) inherit the stdio of the program that started them and would hold a pipe open
 * until the wineserver exits, seconds later.
 */
function wineTool(command: string, args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs: number) {
  return new Promise<void>((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: "ignore" });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${command} ${args.join(" ")}: no exit in ${timeoutMs} ms`));
    }, timeoutMs);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`${command} ${args.join(" ")} exited with ${code}`));
    });
  });
}

function wineEnvironment(prefix: string, home: string, display: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: home,
    DISPLAY: display,
    WINEPREFIX: prefix,
    WINEARCH: "win64",
    WINEDEBUG: "-all",
    WINEDLLOVERRIDES: WINE_DLL_OVERRIDES,
    LANG: "C.UTF-8",
  };
}

/** Names the prepared prefix by everything that makes it: a change of any makes a new one. */
async function prefixKey(): Promise<string> {
  const { stdout } = await run("wine", ["--version"], { timeout: 30_000 });
  return createHash("sha256")
    .update(
      [stdout.trim(), PREFIX_RECIPE, PRNG_SOURCE, SYNCH_SOURCE, SYNCH_DEF, WINE_DLL_OVERRIDES].join("\0"),
    )
    .update(`${userInfo().uid}`)
    .digest("hex")
    .slice(0, 16);
}

/**
 * The machine's prepared prefix (Windows 10, the forwarders in system32), made on first use: in a
 * temporary folder, renamed into place once complete and its wineserver gone (the registry is on
 * disk then). A test file that loses the race to make it uses the winner's.
 */
async function preparedPrefix(display: string): Promise<string> {
  const trace = tracer();
  const done = join(PREFIX_CACHE, await prefixKey());
  trace("wine --version (the prepared prefix's key)");
  if (existsSync(done)) return done;
  mkdirSync(PREFIX_CACHE, { recursive: true });
  // A preparation killed half-way leaves its folder (about 700 MB); none takes an hour.
  for (const entry of readdirSync(PREFIX_CACHE)) {
    const path = join(PREFIX_CACHE, entry);
    if (entry.startsWith(".making-") && Date.now() - statSync(path).mtimeMs > 3_600_000) {
      rmSync(path, { recursive: true, force: true });
    }
  }
  const making = mkdtempSync(join(PREFIX_CACHE, ".making-"));
  const home = mkdtempSync(join(tmpdir(), "sos-wine-home-"));
  const prefix = join(making, "prefix");
  const env = wineEnvironment(prefix, home, display);
  try {
    const dlls = await compileForwarders(join(making, "dlls"));
    trace("preparing: the forwarders compiled");
    await wineTool("wineboot", ["-i"], env, 180_000);
    trace("preparing: wineboot -i");
    await wineTool(
      "wine",
      ["reg", "add", "HKCU\\Software\\Wine", "/v", "Version", "/d", "win10", "/f"],
      env,
      60_000,
    );
    const system32 = join(prefix, "drive_c", "windows", "system32");
    for (const dll of dlls) copyFileSync(dll, join(system32, basename(dll)));
    trace("preparing: Windows 10 set, the forwarders copied");
    await wineTool("wineserver", ["-w"], env, 60_000);
    trace("preparing: wineserver -w");
    // Wine links the profile's Desktop, Documents, ... to $HOME; here, folders of their own.
    const users = join(prefix, "drive_c", "users");
    for (const user of readdirSync(users)) {
      for (const entry of readdirSync(join(users, user))) {
        const path = join(users, user, entry);
        if (lstatSync(path).isSymbolicLink()) {
          rmSync(path);
          mkdirSync(path);
        }
      }
    }
    try {
      renameSync(prefix, done);
    } catch (error) {
      if (!existsSync(done)) throw error;
    }
    return done;
  } finally {
    await wineTool("wineserver", ["-k"], env, 20_000).catch(() => undefined);
    rmSync(making, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  }
}

/** Wine's own program files, which nothing writes to once the prefix is made: hard-linked. */
const LINKED = /\.(dll|exe|drv|sys|ocx|cpl|acm|ax|tlb|com|ds|tsp|vxd|mui)$/i;

/** Copies a prepared prefix, hard-linking Wine's program files under drive_c/windows. */
function copyPrefix(from: string, to: string): void {
  const windows = join(from, "drive_c", "windows");
  const walk = (dir: string) => {
    mkdirSync(join(to, relative(from, dir)), { recursive: true });
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const source = join(dir, entry.name);
      const target = join(to, relative(from, source));
      if (entry.isDirectory()) walk(source);
      else if (entry.isSymbolicLink()) symlinkSync(readlinkSync(source), target);
      else if (LINKED.test(entry.name) && !relative(windows, source).startsWith("..")) {
        try {
          linkSync(source, target);
        } catch {
          copyFileSync(source, target);
        }
      } else copyFileSync(source, target);
    }
  };
  walk(from);
}

/**
 * A Wine prefix of this test file's own (a copy of the machine's prepared one) for programs shown
 * on `display` (an Xvfb from tests/helpers/xvfb.ts), with its wineserver and Wine's background
 * processes started once and kept until stop(). Bounded: each step has a timeout.
 */
export async function startWine(options: { display: string }): Promise<Wine> {
  const trace = tracer();
  const template = await preparedPrefix(options.display);
  trace("the prepared prefix");
  const root = mkdtempSync(join(tmpdir(), "sos-wine-"));
  const prefix = join(root, "prefix");
  const env = wineEnvironment(prefix, root, options.display);
  const children = new Set<ChildProcess>();
  const stop = async () => {
    const stopping = tracer();
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
    await wineTool("wineserver", ["-k"], env, 20_000).catch(() => undefined);
    stopping("stop: wineserver -k");
    rmSync(root, { recursive: true, force: true });
    stopping("stop: the copy removed");
  };
  try {
    copyPrefix(template, prefix);
    trace("the prefix copied");
    // A wineserver that stays a minute after the last program (not 3 s), and Wine's services
    // started with no stdio of a test's program.
    await wineTool("wineserver", ["-p60"], env, 20_000);
    trace("wineserver -p60");
    await wineTool("wine", ["cmd", "/c", "exit"], env, 60_000);
    trace("wine cmd /c exit (Wine's services started)");
  } catch (error) {
    await stop();
    throw error;
  }

  const start: Wine["start"] = (program, args, runOptions = {}) => {
    // tap's process-info hook adds NODE_OPTIONS (--import of its Linux hooks) to every child's
    // environment; a Windows Node would try to load them, so the program starts without it.
    const command = ["env", "-u", "NODE_OPTIONS", "wine", resolve(program), ...args]
      .map(shellQuote)
      .join(" ");
    const child = spawn("script", ["-qefc", command, "/dev/null"], {
      env: { ...env, ...runOptions.env },
      cwd: runOptions.cwd ?? root,
      stdio: ["pipe", "pipe", "pipe"],
    });
    children.add(child);
    let raw = "";
    const wakers = new Set<() => void>();
    const onData = (data: Buffer) => {
      raw += data.toString();
      for (const wake of wakers) wake();
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    const exited = new Promise<number | null>((resolve) => {
      child.once("close", (code) => {
        children.delete(child);
        resolve(code);
        for (const wake of wakers) wake();
      });
    });
    const output = () => plainOutput(raw);
    return {
      output,
      exited,
      type: (text) => child.stdin.write(`${text}\r`),
      kill: () => {
        if (child.exitCode === null) child.kill("SIGKILL");
      },
      line: (pattern, timeoutMs = 60_000) =>
        new Promise((resolve, reject) => {
          const check = () => {
            const found = output()
              .split("\n")
              .find((line) => pattern.test(line));
            if (found !== undefined) {
              finish();
              resolve(found);
            } else if (child.exitCode !== null || child.signalCode !== null) {
              finish();
              reject(new Error(`exited before a line ${pattern}; output: ${output()}`));
            }
          };
          const timer = setTimeout(() => {
            finish();
            reject(new Error(`no line ${pattern} in ${timeoutMs} ms; output: ${output()}`));
          }, timeoutMs);
          const finish = () => {
            clearTimeout(timer);
            wakers.delete(check);
          };
          wakers.add(check);
          check();
        }),
    };
  };

  return {
    prefix,
    env,
    start,
    windowsPath: (path) => `Z:${path.replaceAll("/", "\\")}`,
    run: async (program, args, runOptions = {}) => {
      const running = start(program, args, runOptions);
      const timer = setTimeout(() => running.kill(), runOptions.timeoutMs ?? 120_000);
      const code = await running.exited;
      clearTimeout(timer);
      return { code, output: running.output() };
    },
    stop,
  };
}
