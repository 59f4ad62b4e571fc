import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import t from "tap";
import type { FileLink } from "../../agent/files/file-link.ts";
import { FileTransfers } from "../../agent/files/file-transfers.ts";
import { FilesPeer, loadDataChannel } from "../../agent/peer/files-peer.ts";
import {
  encodeFileChunk,
  FILE_CHUNK_BYTES,
  FILE_FRAME_HEADER_BYTES,
  type FileMessage,
  fileMessageSchema,
} from "../../shared/file-transfer.ts";
import { FILE_WRITE_WINDOW_BYTES } from "../../shared/limits.ts";
import { technicianChannel } from "../helpers/files-technician.ts";

/**
 * A receiver that writes to disk keeps its sender within a window of what it wrote: the agent's
 * accept asks for one (`file.accept {window}`) and its `file.progress` counts bytes written; the
 * agent as sender stays within the window a receiver asks for. The technician here speaks the
 * protocol itself over a real files connection (node-datachannel both ends).
 */

const loaded = await loadDataChannel();
if (loaded instanceof Error) throw loaded;
const ndc = loaded;
t.teardown(() => ndc.cleanup());
const MB = 1024 * 1024;

/** The agent's files connection and a technician's end of it, open. */
async function connected(name: string): Promise<{ agent: FilesPeer; technician: FileLink; close(): void }> {
  const agent = new FilesPeer(ndc, name, []);
  const { pc, technician } = await technicianChannel(ndc, agent, name);
  await new Promise<void>((resolve) => technician.onOpen(resolve));
  return {
    agent,
    technician,
    close: () => {
      agent.close();
      pc.close();
    },
  };
}

const send = (link: FileLink, message: FileMessage) => link.send(JSON.stringify(message));
const decode = (data: string) => fileMessageSchema.parse(JSON.parse(data));

t.test("the agent's sender stays within the window the receiver asks for", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "sos-file-window-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const pair = await connected("sender");
  t.teardown(() => pair.close());
  const files = new FileTransfers(pair.agent.files, { dir, policy: () => "FILES_REFUSED" });
  t.teardown(() => files.close());
  const size = 24 * MB;
  const path = join(dir, "big.log");
  await writeFile(path, randomBytes(size));

  // The technician "writes" 512 KiB every 20 ms (a slow disk) and tells what it wrote.
  const window = 2 * MB;
  let received = 0;
  let written = 0;
  let furthest = 0;
  let disk: NodeJS.Timeout | undefined;
  t.teardown(() => clearInterval(disk));
  const finished = new Promise<void>((resolve) => files.on("finished", () => resolve()));
  pair.technician.onMessage((data) => {
    if (typeof data !== "string") {
      received += data.byteLength - FILE_FRAME_HEADER_BYTES;
      furthest = Math.max(furthest, received - written);
      return;
    }
    const message = decode(data);
    if (message.type === "file.offer") {
      send(pair.technician, { type: "file.accept", id: message.id, offset: 0, window });
      disk = setInterval(() => {
        written = Math.min(received, written + MB / 2);
        send(pair.technician, { type: "file.progress", id: message.id, received: written });
      }, 20);
    } else if (message.type === "file.done") {
      clearInterval(disk);
      send(pair.technician, { type: "file.saved", id: message.id });
    }
  });
  await files.offer(path);
  await finished;
  t.equal(received, size, "every byte came");
  // Past the window the stream stops before its next read (16 messages, about 1 MiB at most).
  t.ok(
    furthest <= window + 16 * FILE_CHUNK_BYTES,
    `never more than the window ahead of what was written (${(furthest / MB).toFixed(2)} MiB)`,
  );
});

t.test("the agent as receiver asks for a window and tells the bytes it wrote", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "sos-file-window-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const pair = await connected("receiver");
  t.teardown(() => pair.close());
  const files = new FileTransfers(pair.agent.files, { dir, policy: () => undefined });
  t.teardown(() => files.close());
  const data = randomBytes(FILE_WRITE_WINDOW_BYTES / 2 + 3 * MB);
  const sha256 = createHash("sha256").update(data).digest("hex");
  const messages: FileMessage[] = [];
  const checks: Array<Promise<{ told: number; onDisk: number }>> = [];
  let wake: () => void = () => undefined;
  pair.technician.onMessage((text) => {
    if (typeof text !== "string") return;
    const message = decode(text);
    messages.push(message);
    if (message.type === "file.progress" && !messages.some((m) => m.type === "file.saved"))
      checks.push(
        readdir(dir).then(async (names) => {
          const part = names.find((name) => name.endsWith(".sos-part"));
          // Renamed to its final name between the two looks: all of it is on disk.
          const size =
            part === undefined
              ? undefined
              : await stat(join(dir, part)).then(
                  (found) => found.size,
                  () => undefined,
                );
          const onDisk = size ?? data.byteLength;
          return { told: message.received, onDisk };
        }),
      );
    wake();
  });
  const until = (found: () => boolean) =>
    new Promise<void>((resolve) => {
      wake = () => {
        if (found()) resolve();
      };
      wake();
    });
  send(pair.technician, { type: "file.offer", id: 7, name: "setup.bin", size: data.byteLength, sha256 });
  await until(() => messages.some((m) => m.type === "file.accept"));
  t.match(
    messages.find((m) => m.type === "file.accept"),
    { id: 7, offset: 0, window: FILE_WRITE_WINDOW_BYTES },
    "the accept asks for a window",
  );
  for (let at = 0; at < data.byteLength; at += FILE_CHUNK_BYTES)
    pair.technician.send(Buffer.from(encodeFileChunk(7, data.subarray(at, at + FILE_CHUNK_BYTES))));
  // A quarter of the window written: told without waiting for the next interval.
  await until(() => messages.some((m) => m.type === "file.progress"));
  send(pair.technician, { type: "file.done", id: 7 });
  await until(() => messages.some((m) => m.type === "file.saved"));
  const seen = await Promise.all(checks);
  t.ok(seen.length > 0, "progress came");
  for (const { told, onDisk } of seen)
    t.ok(told <= onDisk, `told ${told} bytes, ${onDisk} in the file: only bytes written are told`);
});
