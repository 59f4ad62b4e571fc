import { type AgentControl, agentControlSchema, type TechnicianControl } from "../../../shared/control.ts";
import { decodeMessage } from "../../../shared/decode.ts";

/** The `control` data channel the agent opens: decoded in one place, sent only while open. */
export type ControlLink = {
  send(message: TechnicianControl): void;
  close(): void;
};

export function openControlLink(
  channel: RTCDataChannel,
  events: { message(message: AgentControl): void; open(): void; closed(): void },
): ControlLink {
  const onMessage = (event: MessageEvent<unknown>): void => {
    if (typeof event.data !== "string") return;
    const decoded = decodeMessage(agentControlSchema, event.data);
    if (decoded.ok) events.message(decoded.value);
    else console.warn("control channel: ignored a message:", decoded.error.message);
  };
  const onOpen = (): void => events.open();
  const onClose = (): void => events.closed();
  channel.addEventListener("message", onMessage);
  channel.addEventListener("open", onOpen);
  channel.addEventListener("close", onClose);
  if (channel.readyState === "open") events.open();
  return {
    send(message) {
      if (channel.readyState === "open") channel.send(JSON.stringify(message));
    },
    close() {
      channel.removeEventListener("message", onMessage);
      channel.removeEventListener("open", onOpen);
      channel.removeEventListener("close", onClose);
    },
  };
}
