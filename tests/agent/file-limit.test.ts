import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import t from "tap";
import { type RTCDataChannel, RTCPeerConnection } from "werift";
import { FileOfferError, FileTransfers } from "../../agent/files/file-transfers.ts";
import { fileLinkOf } from "../../agent/peer/technician-peer.ts";
import { FILES_CHANNEL_LABEL, type FileMessage, fileMessageSchema } from "../../shared/file-transfer.ts";

/**
 * The agent enforces the channel's file size limit (peer.open's maxFileBytes) itself: a
 * technician's console cannot be trusted to. Real werift peers on loopback; the technician's side
 * speaks the files protocol by hand.
 */
const LIMIT = 1024 * 1024;

async function connectedFiles(): Promise<{
  close(): void;
  technician: RTCDataChannel;
  agent: RTCDataChannel;
}> {
  const a = new RTCPeerConnection({});
  const b = new RTCPeerConnection({});
  const technician = a.createDataChannel(FILES_CHANNEL_LABEL, { ordered: true });
  const arrived = new Promise<RTCDataChannel>((resolve) => b.onDataChannel.subscribe(resolve));
  a.onIceCandidate.subscribe((candidate) => candidate !== undefined && void b.addIceCandidate(candidate));
  b.onIceCandidate.subscribe((candidate) => candidate !== undefined && void a.addIceCandidate(candidate));
  await a.setLocalDescription(await a.createOffer());
  await b.setRemoteDescription(a.localDescription ?? { type: "offer", sdp: "" });
  await b.setLocalDescription(await b.createAnswer());
  await a.setRemoteDescription(b.localDescription ?? { type: "answer", sdp: "" });
  const agent = await arrived;
  if (technician.readyState !== "open")
    await new Promise<void>((resolve) => technician.stateChanged.subscribe((s) => s === "open" && resolve()));
  return {
    technician,
    agent,
    close: () => {
      void a.close();
      void b.close();
    },
  };
}

t.test(
  "the agent refuses an incoming file over the channel's limit (TOO_LARGE) and writes nothing, and will not offer one",
  async (t) => {
    const dir = await mkdtemp(join(tmpdir(), "sos-file-limit-"));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    const pair = await connectedFiles();
    t.teardown(() => pair.close());
    const files = new FileTransfers(fileLinkOf(pair.agent), {
      dir,
      policy: () => undefined,
      maxBytes: LIMIT,
    });
    t.teardown(() => files.close());
    // Subscribed before the offer goes: the answer cannot be missed.
    const answered = (id: number) =>
      new Promise<FileMessage>((resolve) => {
        pair.technician.onMessage.subscribe((data) => {
          if (typeof data !== "string") return;
          const message = fileMessageSchema.parse(JSON.parse(data));
          if (message.id === id) resolve(message);
        });
      });
    const sha256 = "0".repeat(64);

    const tooLarge = answered(1);
    pair.technician.send(
      JSON.stringify({ type: "file.offer", id: 1, name: "big.bin", size: LIMIT + 1, sha256 }),
    );
    t.same(await tooLarge, { type: "file.refuse", id: 1, code: "TOO_LARGE" }, "one byte over: refused");
    t.same(await readdir(dir), [], "nothing written");

    const atLimit = answered(2);
    pair.technician.send(
      JSON.stringify({ type: "file.offer", id: 2, name: "fits.bin", size: LIMIT, sha256 }),
    );
    t.match(await atLimit, { type: "file.accept", id: 2 }, "a file at the limit is taken");
    pair.technician.send(JSON.stringify({ type: "file.cancel", id: 2, by: "sender" }));

    const own = join(tmpdir(), `sos-file-limit-own-${process.pid}.bin`);
    await writeFile(own, Buffer.alloc(LIMIT + 1));
    t.teardown(() => rm(own, { force: true }));
    const offered = await files.offer(own).then(
      () => "offered",
      (error: unknown) => (error instanceof FileOfferError ? error.code : String(error)),
    );
    t.equal(offered, "TOO_LARGE", "the end user's own file over the limit is not offered");
  },
);
