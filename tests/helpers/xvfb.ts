/**
 * A real X server for tests: `Xvfb` on a display number it picks itself (`-displayfd`), ready once
 * `xdpyinfo` answers, killed at teardown. Helpers around it run the X tools the tests look through
 * (xdotool, xmessage, xev) against that display.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { promisify } from "node:util";

const run = promisify(execFile);

export type Xvfb = {
  /** ":N", for `DISPLAY`. */
  readonly display: string;
  readonly width: number;
  readonly height: number;
  /** The environment to hand to X clients: the current one with DISPLAY set. */
  readonly env: NodeJS.ProcessEnv;
  /** Runs an X tool against this display and returns its stdout. */
  x(command: string, args: readonly string[]): Promise<string>;
  /** Starts a long-running X client (a window) that is killed at stop(). */
  client(command: string, args: readonly string[]): ChildProcess;
  stop(): Promise<void>;
};

export type XvfbOptions = { width?: number; height?: number };

function readDisplayNumber(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    const fd = child.stdio[3];
    if (fd === null || fd === undefined || !("on" in fd)) {
      reject(new Error("Xvfb: no display fd"));
      return;
    }
    let text = "";
    fd.on("data", (data: Buffer) => {
      text += data.toString();
      const match = /^(\d+)\n/.exec(text);
      if (match?.[1] !== undefined) resolve(Number(match[1]));
    });
    child.once("exit", (code) => reject(new Error(`Xvfb exited with ${code} before it was ready`)));
    child.once("error", reject);
  });
}

/** Polls `xdpyinfo` until the server answers, or fails after the deadline. */
async function waitForServer(env: NodeJS.ProcessEnv, deadlineMs: number): Promise<void> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    try {
      await run("xdpyinfo", [], { env });
      return;
    } catch (error) {
      if (Date.now() > until) throw new Error("Xvfb did not answer xdpyinfo in time", { cause: error });
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

export async function startXvfb(options: XvfbOptions = {}): Promise<Xvfb> {
  const width = options.width ?? 1280;
  const height = options.height ?? 720;
  const server = spawn(
    "Xvfb",
    ["-displayfd", "3", "-screen", "0", `${width}x${height}x24`, "-nolisten", "tcp", "-noreset", "-br"],
    { stdio: ["ignore", "ignore", "pipe", "pipe"] },
  );
  let stderr = "";
  server.stderr?.on("data", (data: Buffer) => {
    stderr += data.toString();
  });
  let displayNumber: number;
  try {
    displayNumber = await readDisplayNumber(server);
  } catch (error) {
    server.kill("SIGKILL");
    throw new Error(`Xvfb failed to start: ${stderr.trim()}`, { cause: error });
  }
  const display = `:${displayNumber}`;
  const env: NodeJS.ProcessEnv = { ...process.env, DISPLAY: display };
  await waitForServer(env, 10_000);

  const clients = new Set<ChildProcess>();
  let stopped = false;
  return {
    display,
    width,
    height,
    env,
    async x(command, args) {
      const { stdout } = await run(command, [...args], { env });
      return stdout;
    },
    client(command, args) {
      const child = spawn(command, [...args], { env, stdio: ["ignore", "pipe", "ignore"] });
      clients.add(child);
      child.once("exit", () => clients.delete(child));
      return child;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const child of clients) child.kill("SIGKILL");
      if (server.exitCode !== null) return;
      const exited = new Promise((resolve) => server.once("exit", resolve));
      server.kill("SIGTERM");
      await exited;
    },
  };
}

/** Where the pointer is, as `xdotool getmouselocation` reports it. */
export async function pointerLocation(xvfb: Xvfb): Promise<{ x: number; y: number }> {
  const out = await xvfb.x("xdotool", ["getmouselocation", "--shell"]);
  const x = /X=(\d+)/.exec(out)?.[1];
  const y = /Y=(\d+)/.exec(out)?.[1];
  if (x === undefined || y === undefined) throw new Error(`unexpected xdotool output: ${out}`);
  return { x: Number(x), y: Number(y) };
}

/** Polls `check` until it returns true or the deadline passes (for state outside this process). */
export async function waitUntil(check: () => Promise<boolean>, deadlineMs = 5_000, what = "condition") {
  const until = Date.now() + deadlineMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Finds the id of a window by its exact name, waiting for it to be mapped. */
export async function windowByName(xvfb: Xvfb, name: string): Promise<string> {
  let id = "";
  await waitUntil(
    async () => {
      try {
        id =
          (await xvfb.x("xdotool", ["search", "--onlyvisible", "--name", `^${name}$`]))
            .trim()
            .split("\n")[0] ?? "";
      } catch {
        id = "";
      }
      return id !== "";
    },
    10_000,
    `window ${name}`,
  );
  return id;
}

/**
 * A solid-coloured window (xmessage, from x11-utils) at a known place. Resolves once it is mapped.
 * The window's own button is small and sits at its top-left corner; its middle is the colour.
 */
export async function colouredWindow(
  xvfb: Xvfb,
  place: { x: number; y: number; width: number; height: number; colour: string; name: string },
): Promise<ChildProcess> {
  const child = xvfb.client("xmessage", [
    "-name",
    place.name,
    "-title",
    place.name,
    "-bg",
    place.colour,
    "-fg",
    place.colour,
    "-geometry",
    `${place.width}x${place.height}+${place.x}+${place.y}`,
    " ",
  ]);
  await windowByName(xvfb, place.name);
  return child;
}

export type KeyRecorder = {
  /** Key names (X keysym names) seen so far, in order, as "down:a" / "up:a". */
  readonly events: string[];
  /** Resolves once `predicate` holds for the events seen (waits on xev's output, not on time). */
  until(predicate: (events: readonly string[]) => boolean, deadlineMs?: number): Promise<void>;
};

/**
 * A focused X window that records keys: `xev -event keyboard`, given the input focus with xdotool.
 * Each KeyPress/KeyRelease is parsed from xev's stdout.
 */
export async function keyRecorder(xvfb: Xvfb, name = "sos-keys"): Promise<KeyRecorder> {
  const child = xvfb.client("xev", ["-event", "keyboard", "-name", name, "-geometry", "300x200+600+400"]);
  const events: string[] = [];
  const waiters = new Set<() => void>();
  let pending: "down" | "up" | undefined;
  if (child.stdout === null) throw new Error("xev has no stdout");
  createInterface({ input: child.stdout }).on("line", (line) => {
    if (line.startsWith("KeyPress")) pending = "down";
    else if (line.startsWith("KeyRelease")) pending = "up";
    const keysym = /keysym 0x[0-9a-f]+, ([^)]+)\)/.exec(line)?.[1];
    if (pending !== undefined && keysym !== undefined) {
      events.push(`${pending}:${keysym}`);
      pending = undefined;
      for (const wake of waiters) wake();
    }
  });
  const id = await windowByName(xvfb, name);
  await xvfb.x("xdotool", ["windowfocus", "--sync", id]);
  return {
    events,
    until(predicate, deadlineMs = 5_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!predicate(events)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`keys not seen in time; seen: ${events.join(" ")}`));
        }, deadlineMs);
        waiters.add(check);
        check();
      });
    },
  };
}
