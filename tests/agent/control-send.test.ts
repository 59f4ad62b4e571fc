/**
 * Sending on the technician's `control` channel never throws out of TechnicianPeer.sendControl:
 * the agent calls it from watchers (clipboard, cursor, input desktop) whose callbacks nothing
 * catches, so a throw there ended the agent. A message that cannot go (the channel closing or
 * closed meanwhile, or past the technician's max-message-size) is dropped and told as `dropped`
 * (the session logs it). Real werift peers on loopback, no screen: the video is never sent.
 */
import t, { type Test } from "tap";
import { TechnicianPeer } from "../../agent/peer/technician-peer.ts";
import { MAX_CLIPBOARD_CHARS } from "../../shared/limits.ts";
import { TestTechnician } from "../helpers/technician-peer.ts";

/** An agent's peer and a werift technician wired straight to each other, control channel open. */
async function connectedPair(t: Test) {
  const peer = new TechnicianPeer({
    peerId: "p",
    technician: { id: "t", name: "T" },
    access: "control",
    video: { preferred: "vp8", h264Profile: "high" },
    iceServers: [],
  });
  const technician = new TestTechnician();
  t.teardown(async () => {
    await peer.close();
    await technician.close();
  });
  // The agent may still trickle a candidate after the technician closed (the second test).
  peer.on("signal", (data) => void technician.handleSignal(data).catch(() => undefined));
  technician.on("signal", (data) => void peer.handleSignal(data));
  const opened = new Promise<void>((resolve) => peer.once("controlOpen", resolve));
  await peer.start();
  await opened;
  await technician.channelOpen();
  const dropped: string[] = [];
  peer.on("dropped", (reason) => dropped.push(reason));
  return { peer, technician, dropped };
}

t.test("a clipboard past the technician's max-message-size is dropped, not thrown", async (t) => {
  // 60,000 CJK characters are 180,000 bytes of UTF-8: past werift's 64 KiB (a browser's 256 KiB
  // takes a clipboard of control characters, 6 bytes each in JSON). werift throws on send.
  const { peer, technician, dropped } = await connectedPair(t);
  const text = "中".repeat(MAX_CLIPBOARD_CHARS);
  t.doesNotThrow(() => peer.sendControl({ type: "clipboard", text }), "sendControl does not throw");
  t.equal(dropped.length, 1, "the message is told as dropped");
  t.match(dropped[0], /max-message-size/, `with werift's reason: ${dropped[0]}`);
  peer.sendControl({ type: "clipboard", text: "after" });
  const next = await technician.nextControl((message) => message.type === "clipboard");
  t.same(next, { type: "clipboard", text: "after" }, "the channel still carries the next message");
});

t.test("sending while the technician's connection goes, and after it went, never throws", async (t) => {
  const { peer, technician } = await connectedPair(t);
  let sends = 0;
  let thrown: unknown;
  let sending = true;
  const send = () => {
    try {
      sends += 1;
      peer.sendControl({ type: "cursor", x: sends % 100, y: 0, visible: true });
    } catch (error) {
      thrown ??= error;
    }
  };
  const loop = () => {
    if (!sending) return;
    send();
    setImmediate(loop);
  };
  loop();
  // werift closes the agent's end of the channel on the technician's ABORT; the connection itself
  // stays until its consent runs out (path-watch.ts). Sends meanwhile are dropped, then told.
  const channelGone = new Promise<string>((resolve) => peer.once("dropped", resolve));
  await technician.close();
  t.match(await channelGone, /closed/, "a send on the closed channel is told as dropped");
  const closed = new Promise<string>((resolve) => peer.once("closed", resolve));
  await peer.close("test");
  t.equal(await closed, "test");
  send();
  sending = false;
  t.equal(thrown, undefined, `no send threw (${sends} sent)`);
});
