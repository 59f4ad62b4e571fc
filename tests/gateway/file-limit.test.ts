import t from "tap";
import { MAX_FILE_BYTES } from "../../shared/limits.ts";
import { errorCode, joinAgent, openConsoleSocket, startTestGateway } from "../helpers/gateway.ts";

type ChannelBody = { channel: { id: string; fileSizeLimitMb: number } };

t.test(
  "a channel's file size limit is stored with it, bounded, and reaches the agent and the console with each view",
  async (t) => {
    const gw = await startTestGateway();
    t.teardown(() => gw.close());
    const alice = await gw.technician("Alice");

    const plain = await gw.admin.post("/api/channels", { name: "Plain", access: [alice.id] });
    t.equal(
      (plain.body as ChannelBody).channel.fileSizeLimitMb,
      MAX_FILE_BYTES / 1024 ** 2,
      "default: the gateway's limit",
    );
    const small = await gw.admin.post("/api/channels", {
      name: "Small files",
      fileSizeLimitMb: 5,
      access: [alice.id],
    });
    const id = (small.body as ChannelBody).channel.id;
    for (const bad of [0, -1, 1.5, MAX_FILE_BYTES / 1024 ** 2 + 1, "5"]) {
      const refused = await gw.admin.patch(`/api/channels/${id}`, { fileSizeLimitMb: bad });
      t.equal(errorCode(refused.body), "BAD_REQUEST", `${JSON.stringify(bad)} is refused`);
    }
    const edited = await gw.admin.patch(`/api/channels/${id}`, { fileSizeLimitMb: 2 });
    t.equal((edited.body as ChannelBody).channel.fileSizeLimitMb, 2);
    const listed = (await alice.client.get("/api/channels")).body as { channels: ChannelBody["channel"][] };
    t.equal(listed.channels.find((c) => c.id === id)?.fileSizeLimitMb, 2, "stored with the channel");

    const session = await gw.newSession(alice.client, id);
    const { socket: agent } = await joinAgent(gw.url, { kind: "pin", pin: session.pin });
    t.teardown(() => agent.close());
    const console = await openConsoleSocket(alice.client);
    t.teardown(() => console.close());
    await alice.client.post(`/api/sessions/${session.id}/permission`);
    const ask = await agent.next("consent.request");
    agent.send({ type: "consent", requestId: ask.requestId, decision: "control" });
    await console.next("session.updated", (m) => m.session.permissions.some((p) => p.state === "granted"));
    console.send({ type: "remote.connect", sessionId: session.id });
    const opened = await console.next("remote.opened");
    const peerOpen = await agent.next("peer.open");
    t.equal(peerOpen.maxFileBytes, 2 * 1024 ** 2, "the agent is told the channel's limit in bytes");
    t.equal(opened.maxFileBytes, 2 * 1024 ** 2, "and so is the technician's console");
    t.notOk("filesConnection" in peerOpen, "a console that did not ask: no files connection for the agent");

    // A console that asks for a separate files connection: the agent is told, with the view.
    console.send({ type: "remote.disconnect", sessionId: session.id });
    await agent.next("peer.close", (m) => m.peerId === peerOpen.peerId);
    console.send({ type: "remote.connect", sessionId: session.id, filesConnection: true });
    await console.next("remote.opened");
    const asked = await agent.next("peer.open");
    t.equal(asked.filesConnection, true, "asked for: the agent's peer.open says so");
  },
);
