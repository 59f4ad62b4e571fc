import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import t from "tap";
import type { FileLink } from "../../agent/files/file-link.ts";
import { FileTransfers } from "../../agent/files/file-transfers.ts";
import { FilesPeer, loadDataChannel } from "../../agent/peer/files-peer.ts";
import {
  encodeFileChunk,
  FILE_CHUNK_BYTES,
  type FileMessage,
  fileMessageSchema,
} from "../../shared/file-transfer.ts";
import { technicianChannel } from "../helpers/files-technician.ts";

/**
 * The agent as receiver, across two files channels (real node-datachannel connections; the
 * technician speaks the protocol itself): a transfer the first channel broke off is accepted on the
 * second from the bytes already written, and saved whole; offered once more (its `file.saved` lost)
 * it is answered `file.saved` again, not taken as a new file; another file under the same number
 * is a new transfer. (The browser both ways: tests/console/file-resume.test.ts.)
 */

const loaded = await loadDataChannel();
if (loaded instanceof Error) throw loaded;
const ndc = loaded;
t.teardown(() => ndc.cleanup());
const MB = 1024 * 1024;

type Channel = { agent: FilesPeer; technician: FileLink; messages: FileMessage[]; close(): void };

/** A files connection, the technician's end keeping every text message it gets. */
async function channel(name: string): Promise<Channel> {
  const agent = new FilesPeer(ndc, name, []);
  const { pc, technician } = await technicianChannel(ndc, agent, name);
  const messages: FileMessage[] = [];
  technician.onMessage((data) => {
    if (typeof data === "string") messages.push(fileMessageSchema.parse(JSON.parse(data)));
  });
  await new Promise<void>((resolve) => technician.onOpen(resolve));
  return {
    agent,
    technician,
    messages,
    close: () => {
      agent.close();
      pc.close();
    },
  };
}

/** Resolves with the first message `found` picks out, now or when it comes. */
function answer(on: Channel, found: (message: FileMessage) => boolean): Promise<FileMessage> {
  return new Promise((resolve) => {
    const look = () => {
      const match = on.messages.find(found);
      if (match !== undefined) resolve(match);
      else setImmediate(look);
    };
    look();
  });
}

const send = (on: Channel, message: FileMessage) => on.technician.send(JSON.stringify(message));
const chunks = (on: Channel, id: number, data: Buffer, from: number, to: number) => {
  for (let at = from; at < to; at += FILE_CHUNK_BYTES)
    on.technician.send(
      Buffer.from(encodeFileChunk(id, data.subarray(at, Math.min(at + FILE_CHUNK_BYTES, to)))),
    );
};

t.test("the agent resumes an incoming file on the next channel from the bytes it has", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "sos-file-resume-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const files = new FileTransfers(undefined, { dir, policy: () => undefined });
  t.teardown(() => files.close());
  const events: string[] = [];
  files.on("interrupted", (e) => events.push(`interrupted ${e.bytes}`));
  files.on("resumed", (e) => events.push(`resumed ${e.bytes}`));
  const data = randomBytes(8 * MB + 77);
  const sha256 = createHash("sha256").update(data).digest("hex");
  const offer: FileMessage = { type: "file.offer", id: 5, name: "report.pdf", size: data.byteLength, sha256 };

  const first = await channel("first");
  t.teardown(() => first.close());
  files.attach(first.agent.files);
  send(first, offer);
  t.match(await answer(first, (m) => m.type === "file.accept"), { offset: 0 });
  const half = 64 * FILE_CHUNK_BYTES;
  chunks(first, 5, data, 0, half);
  // Some of it written (told), then the channel goes: what arrived of the rest is kept too.
  await answer(first, (m) => m.type === "file.progress" && m.received > 0);
  first.close();
  const names = await readdir(dir);
  t.ok(names.length === 1 && names[0]?.endsWith(".sos-part"), "only the temporary file, kept");

  const second = await channel("second");
  t.teardown(() => second.close());
  files.attach(second.agent.files);
  send(second, offer);
  const accepted = await answer(second, (m) => m.type === "file.accept");
  const offset = accepted.type === "file.accept" ? accepted.offset : -1;
  t.ok(
    offset > 0 && offset <= half && offset % FILE_CHUNK_BYTES === 0,
    `accepted from the bytes it has (${offset})`,
  );
  chunks(second, 5, data, offset, data.byteLength);
  send(second, { type: "file.done", id: 5 });
  await answer(second, (m) => m.type === "file.saved");
  t.equal(
    createHash("sha256")
      .update(await readFile(join(dir, "report.pdf")))
      .digest("hex"),
    sha256,
    "saved whole, SHA-256 checked over the whole file",
  );
  t.same(events, [`interrupted ${offset}`, `resumed ${offset}`], "told the end user both");

  // Offered again as if its file.saved had been lost: answered, not saved a second time.
  second.messages.length = 0;
  send(second, offer);
  t.match(await answer(second, () => true), { type: "file.saved", id: 5 }, "file.saved again");
  t.same(await readdir(dir), ["report.pdf"], "no second copy");

  // Another file under the same number: a new transfer.
  const other = randomBytes(1000);
  second.messages.length = 0;
  send(second, {
    type: "file.offer",
    id: 5,
    name: "other.txt",
    size: other.byteLength,
    sha256: createHash("sha256").update(other).digest("hex"),
  });
  t.match(await answer(second, () => true), { type: "file.accept", id: 5, offset: 0 }, "a new file from 0");
});
