/**
 * What the agent makes of the gateway's answer to a hello, and where it says it: the socket URL,
 * and a refusal turned into the exit reason and the end user's message.
 */
import type { GatewayToAgent } from "../../shared/agent-protocol.ts";
import { type ErrorBody, TRANSIENT_ERROR_CODES } from "../../shared/errors.ts";
import { AgentError } from "../exit.ts";
import type { Messages } from "./messages.ts";

/** The agent socket's URL on a gateway's http(s) base URL. */
export function agentSocketUrl(gateway: string): string {
  const url = new URL(gateway);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  url.pathname = `${url.pathname.replace(/\/$/, "")}/ws/agent`;
  url.search = "";
  url.hash = "";
  return url.toString();
}

/**
 * What a message that comes before the welcome means: the welcome, or an `error` that refuses the
 * hello; anything else is ignored (a live update a gateway fanned out while it prepared the
 * welcome; it sends what the agent needs again after the welcome), not taken for a refusal.
 */
export function helloStep(message: GatewayToAgent): "welcome" | "refused" | "ignore" {
  if (message.type === "welcome") return "welcome";
  return message.type === "error" ? "refused" : "ignore";
}

/**
 * Why a hello was not welcomed. The gateway's own trouble (its store unavailable) counts as
 * unreachable: a resuming agent keeps trying within the grace, as it does when the gateway is down.
 */
export function helloRefusal(
  message: GatewayToAgent,
  unreachable: (cause?: unknown) => AgentError,
  messages: Messages,
): AgentError {
  if (message.type !== "error") return unreachable();
  if (TRANSIENT_ERROR_CODES.has(message.error.code)) {
    return unreachable(new Error(`${message.error.code}: ${message.error.message}`));
  }
  return refusal(message.error, messages);
}

/** The exit reason and the end user's message for a refused hello. */
export function refusal(error: ErrorBody, messages: Messages): AgentError {
  switch (error.code) {
    case "SESSION_NOT_FOUND":
      return new AgentError("unknown_session", messages.unknownSession);
    case "SESSION_CLOSED":
    case "SESSION_EXPIRED":
      return new AgentError("session_closed", messages.sessionClosed);
    case "PIN_RATE_LIMITED":
    case "RATE_LIMITED":
      return new AgentError("refused", messages.rateLimited(error.retryAfter));
    case "AGENT_ALREADY_CONNECTED":
      return new AgentError("refused", messages.alreadyConnected);
    case "UNSUPPORTED_VERSION":
      return new AgentError("refused", messages.unsupportedVersion);
    case "RESUME_INVALID":
      return new AgentError("refused", messages.resumeRefused);
    default:
      return new AgentError("refused", `${error.code}: ${error.message}`);
  }
}
