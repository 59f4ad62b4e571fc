/**
 * A test-environment shim, not part of the product: runs Windows programs under Debian's Wine 8
 * (`wine64`) on an Xvfb display, so the win-x64 build can be exercised on this Linux machine.
 * Wine is not Windows; a test passing here says the build starts and its addons load, not that
 * Windows behaves the same.
 *
 * Each test file prepares one prefix (Windows 10 version, about 15 s) with two small forwarding
 * DLLs that Wine 8 lacks and Node's addons import, written here from the Windows API documentation
 * and compiled with Debian's gcc-mingw-w64-x86-64:
 * - bcryptprimitives.dll: ProcessPrng, filled by advapi32's SystemFunction036 (RtlGenRandom);
 * - api-ms-win-core-synch-l1-2-0.dll: WaitOnAddress, WakeByAddressSingle, WakeByAddressAll,
 *   forwarded to kernelbase, which Wine 8 implements.
 * Programs run under `script` (util-linux) on a pty: a Windows Node under Wine cannot write to a
 * Linux pipe (EBADF at start), a pty works.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
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

/**
 * Prepares a Wine prefix (Windows 10, the forwarders in system32) for programs shown on `display`
 * (an Xvfb from tests/helpers/xvfb.ts). Bounded: each step has a timeout.
 */
export async function startWine(options: { display: string }): Promise<Wine> {
  const root = mkdtempSync(join(tmpdir(), "sos-wine-"));
  const prefix = join(root, "prefix");
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: root,
    DISPLAY: options.display,
    WINEPREFIX: prefix,
    WINEARCH: "win64",
    WINEDEBUG: "-all",
    WINEDLLOVERRIDES: WINE_DLL_OVERRIDES,
    LANG: "C.UTF-8",
  };
  const children = new Set<ChildProcess>();
  const stop = async () => {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
    await run("wineserver", ["-k"], { env, timeout: 20_000 }).catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
  };
  try {
    const dlls = await compileForwarders(join(root, "dlls"));
    await run("wineboot", ["-i"], { env, timeout: 120_000 });
    await run("wine", ["reg", "add", "HKCU\\Software\\Wine", "/v", "Version", "/d", "win10", "/f"], {
      env,
      timeout: 60_000,
    });
    const system32 = join(prefix, "drive_c", "windows", "system32");
    for (const dll of dlls) {
      copyFileSync(dll, join(system32, basename(dll)));
    }
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
