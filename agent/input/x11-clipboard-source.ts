/**
 * The X11 clipboard for clipboard-watch.ts. Reading it means running a helper program, and starting
 * a process from the agent stalls its event loop for tens of milliseconds (fork copies the page
 * tables of a few hundred MB). So the agent starts one small shell loop per watch, which runs
 * `xsel` every second and prints the clipboard (base64, one line) when it changed.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import type { ClipboardSource } from "./clipboard-source.ts";

/** Ends by itself when the agent is gone, even one that was killed. */
const WATCH_SCRIPT =
  'prev=x; while kill -0 "$AGENT" 2>/dev/null; do ' +
  'cur=$("$XSEL" --clipboard --output 2>/dev/null | base64 -w0); ' +
  'if [ "$cur" != "$prev" ]; then printf "%s\\n" "$cur"; prev=$cur; fi; sleep "$INTERVAL"; done';

/** xsel as clipboardy ships it (the helper nut-js uses), else one on PATH. */
function xselPath(): string {
  try {
    const provider = createRequire(import.meta.url).resolve("@nut-tree-fork/default-clipboard-provider");
    const root = dirname(createRequire(provider).resolve("clipboardy"));
    const bundled = join(root, "fallbacks", "linux", "xsel");
    if (existsSync(bundled)) return bundled;
  } catch {
    // not installed next to the agent: try PATH
  }
  return "xsel";
}

export function x11ClipboardSource(intervalSeconds = 1): ClipboardSource {
  return {
    watch(onText) {
      const watcher = spawn("sh", ["-c", WATCH_SCRIPT], {
        env: {
          ...process.env,
          XSEL: xselPath(),
          INTERVAL: String(intervalSeconds),
          AGENT: String(process.pid),
        },
        stdio: ["ignore", "pipe", "ignore"],
      });
      // No shell: nothing is watched (technician -> end user still works, through nut-js).
      watcher.on("error", () => undefined);
      if (watcher.stdout !== null) {
        createInterface({ input: watcher.stdout }).on("line", (line) => {
          onText(Buffer.from(line, "base64").toString("utf8"));
        });
      }
      return () => watcher.kill();
    },
  };
}
