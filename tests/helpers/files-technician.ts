/**
 * A technician's end of the agent's files connection, made with node-datachannel in the test's
 * own process: the agent's FilesPeer offers (signals marked `peer: "files"`), this end answers, and
 * the two exchange their descriptions and candidates directly (no gateway in between). For tests
 * that speak the files protocol themselves (tests/agent/file-*.test.ts, files-peer.test.ts).
 */
import type { PeerConnection } from "node-datachannel";
import type { FileLink } from "../../agent/files/file-link.ts";
import { type FilesPeer, fileLinkOfDataChannel, type loadDataChannel } from "../../agent/peer/files-peer.ts";
import type { SignalData } from "../../shared/signal.ts";

/** node-datachannel as the agent loads it. */
type DataChannelModule = Exclude<Awaited<ReturnType<typeof loadDataChannel>>, Error>;

/** Wires the agent's files peer and a technician's node-datachannel peer to each other. */
export function pairFilesPeer(
  agent: FilesPeer,
  technician: PeerConnection,
  onAgentSignal: (data: SignalData) => void = () => undefined,
): void {
  agent.on("signal", (data: SignalData) => {
    onAgentSignal(data);
    if (data.kind === "description") technician.setRemoteDescription(data.sdp, data.type);
    else technician.addRemoteCandidate(data.candidate, data.sdpMid ?? "0");
  });
  technician.onLocalDescription((sdp, type) => {
    if (type === "answer") agent.handleSignal({ kind: "description", type, sdp, peer: "files" });
  });
  technician.onLocalCandidate((candidate, mid) =>
    agent.handleSignal({
      kind: "candidate",
      candidate: candidate.replace(/^a=/, ""),
      sdpMid: mid,
      sdpMLineIndex: 0,
      peer: "files",
    }),
  );
}

/** A technician's node-datachannel peer answering `agent`, and its `files` channel once it came. */
export async function technicianChannel(
  ndc: DataChannelModule,
  agent: FilesPeer,
  name: string,
): Promise<{ pc: PeerConnection; technician: FileLink }> {
  const pc = new ndc.PeerConnection(`technician-${name}`, { iceServers: [] });
  pairFilesPeer(agent, pc);
  const technician = await new Promise<FileLink>((resolve) =>
    pc.onDataChannel((dc) => resolve(fileLinkOfDataChannel(dc))),
  );
  return { pc, technician };
}
