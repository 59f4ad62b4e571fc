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
  /** Runs an X tool against this display and returns its stdout (`input` goes to its stdin). */
  x(command: string, args: readonly string[], input?: string): Promise<string>;
  /** Starts a long-running X client (a window) that is killed at stop(); `env` adds variables. */
  client(command: string, args: readonly string[], env?: NodeJS.ProcessEnv): ChildProcess;
  stop(): Promise<void>;
};

export type XvfbOptions = {
  width?: number;
  height?: number;
  /**
   * Keep the server until this process has exited. Needed when this process loaded nut-js: libnut
   * closes its X connection at exit, and Xlib ends the process with status 1 when the server is
   * already gone.
   */
  outliveProcess?: boolean;
  /** More arguments for Xvfb, for example `["-extension", "MIT-SHM"]` to turn an extension off. */
  serverArgs?: readonly string[];
};

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
    [
      "-displayfd",
      "3",
      "-screen",
      "0",
      `${width}x${height}x24`,
      "-nolisten",
      "tcp",
      "-noreset",
      "-br",
      ...(options.serverArgs ?? []),
    ],
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
    x(command, args, input) {
      return new Promise((resolve, reject) => {
        const child = execFile(command, [...args], { env }, (error, stdout) => {
          if (error === null) resolve(stdout);
          else reject(error);
        });
        if (input !== undefined) {
          child.stdin?.on("error", () => undefined);
          child.stdin?.end(input);
        }
      });
    },
    client(command, args, extra) {
      const child = spawn(command, [...args], {
        env: { ...env, ...extra },
        stdio: ["ignore", "pipe", "ignore"],
      });
      clients.add(child);
      child.once("exit", () => clients.delete(child));
      return child;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const child of clients) child.kill("SIGKILL");
      if (server.exitCode !== null) return;
      if (options.outliveProcess === true && server.pid !== undefined) {
        const watcher = spawn(
          "sh",
          ["-c", `while kill -0 ${process.pid} 2>/dev/null; do sleep 0.2; done; kill ${server.pid}`],
          { detached: true, stdio: "ignore" },
        );
        watcher.unref();
        server.unref();
        for (const stream of server.stdio) stream?.destroy();
        return;
      }
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

export type InputRecorder = {
  /** The recorder window's place on the screen. */
  readonly place: { x: number; y: number; width: number; height: number };
  /** What xev saw so far, in order: "down:a" / "up:a" (X keysym names), "press:1" / "release:1" (buttons). */
  readonly events: string[];
  /**
   * The printable text the key presses typed, as the window's X client decodes them with the
   * server's keyboard mapping (XLookupString in a UTF-8 locale; control characters left out).
   */
  readonly text: string;
  /** Resolves once `predicate` holds for the events seen (waits on xev's output, not on time). */
  until(predicate: (events: readonly string[]) => boolean, deadlineMs?: number): Promise<void>;
};

/**
 * A focused X window that records keys and buttons: `xev -event keyboard -event button`, given the
 * input focus with xdotool. Buttons are recorded while the pointer is over the window.
 */
export async function inputRecorder(xvfb: Xvfb, name = "sos-input"): Promise<InputRecorder> {
  const place = { x: 600, y: 400, width: 300, height: 200 };
  const child = xvfb.client(
    "xev",
    [
      "-event",
      "keyboard",
      "-event",
      "button",
      "-name",
      name,
      "-geometry",
      `${place.width}x${place.height}+${place.x}+${place.y}`,
    ],
    { LANG: "C.UTF-8", LC_ALL: "C.UTF-8" },
  );
  const events: string[] = [];
  let text = "";
  let pressed = false;
  const waiters = new Set<() => void>();
  let pending: "down" | "up" | "press" | "release" | undefined;
  const record = (event: string) => {
    events.push(event);
    pending = undefined;
    for (const wake of waiters) wake();
  };
  if (child.stdout === null) throw new Error("xev has no stdout");
  createInterface({ input: child.stdout }).on("line", (line) => {
    if (line.startsWith("KeyPress")) pressed = true;
    else if (/^\S/.test(line)) pressed = false;
    const typed = /XLookupString gives \d+ bytes: \(([0-9a-f ]+)\)/.exec(line)?.[1];
    if (pressed && typed !== undefined) {
      const chars = Buffer.from(typed.replaceAll(" ", ""), "hex").toString("utf8");
      text += chars.replace(/\p{Cc}/gu, "");
      for (const wake of waiters) wake();
    }
    if (line.startsWith("KeyPress")) pending = "down";
    else if (line.startsWith("KeyRelease")) pending = "up";
    else if (line.startsWith("ButtonPress")) pending = "press";
    else if (line.startsWith("ButtonRelease")) pending = "release";
    if (pending === "down" || pending === "up") {
      const keysym = /keysym 0x[0-9a-f]+, ([^)]+)\)/.exec(line)?.[1];
      if (keysym !== undefined) record(`${pending}:${keysym}`);
    } else if (pending === "press" || pending === "release") {
      const button = /button (\d+),/.exec(line)?.[1];
      if (button !== undefined) record(`${pending}:${button}`);
    }
  });
  const id = await windowByName(xvfb, name);
  await xvfb.x("xdotool", ["windowfocus", "--sync", id]);
  return {
    place,
    events,
    get text() {
      return text;
    },
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
          reject(
            new Error(`input not seen in time; seen: ${events.join(" ")}; text: ${JSON.stringify(text)}`),
          );
        }, deadlineMs);
        waiters.add(check);
        check();
      });
    },
  };
}

/** True when `events` contains `expected` in this order (other events may sit between). */
export function inOrder(events: readonly string[], expected: readonly string[]): boolean {
  let at = 0;
  for (const event of events) if (event === expected[at]) at += 1;
  return at === expected.length;
}
