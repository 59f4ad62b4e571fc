/**
 * Runs a server module (the gateway's cli.ts, bench-peerjs-server.ts) in this process and answers
 * the bench over IPC, so each server's memory is its own and read the same way:
 *   { type: "memory" }                 -> after two full collections: rss, heapUsed, external (bytes)
 *   { type: "heap-snapshot", path }    -> writes a V8 heap snapshot there, answers { path }
 * Usage: node --expose-gc scripts/bench-child.ts <module> [its arguments...]
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { writeHeapSnapshot } from "node:v8";

export type ChildRequest = { type: "memory" } | { type: "heap-snapshot"; path: string };
export type ChildMemory = { rss: number; heapUsed: number; external: number };

const target = process.argv[2];
if (target === undefined) {
  process.stderr.write("usage: node --expose-gc scripts/bench-child.ts <module> [args...]\n");
  process.exit(2);
}
// The module sees its own command line: argv[1] is the module, its arguments follow.
process.argv.splice(1, 1);

process.on("message", (request: ChildRequest) => {
  globalThis.gc?.();
  globalThis.gc?.();
  if (request.type === "memory") {
    const { rss, heapUsed, external } = process.memoryUsage();
    process.send?.({ rss, heapUsed, external } satisfies ChildMemory);
  } else {
    process.send?.({ path: writeHeapSnapshot(request.path) });
  }
});
// The IPC channel alone does not keep the server alive.
process.channel?.unref();

await import(pathToFileURL(resolve(target)).href);
