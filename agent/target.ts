/**
 * Where to join: a session link carries its gateway (`<gateway>/s/<token>`); a PIN needs one from
 * --gateway, SOS_GATEWAY, the branded build, or the end user. With nothing given, a session code
 * in the executable's own file name (a build downloaded from a session's landing page) is used.
 */
import { basename } from "node:path";
import { type Join, linkTokenSchema, pinSchema } from "../shared/agent-protocol.ts";
import { AgentError } from "./exit.ts";

export type JoinTarget = { readonly gateway: string; readonly join: Join };

type Code = { kind: "pin"; pin: string } | { kind: "link"; token: string; gateway: string };

/** A PIN ("123 456 789" and "123-456-789" too) or a session link; undefined when it is neither. */
export function parseCode(text: string): Code | undefined {
  const trimmed = text.trim();
  const pin = trimmed.replace(/[\s-]/g, "");
  if (pinSchema.safeParse(pin).success) return { kind: "pin", pin };
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    return undefined;
  }
  const match = /^(.*)\/s\/([^/]+)\/?$/.exec(url.pathname);
  if (match === null || (url.protocol !== "https:" && url.protocol !== "http:")) return undefined;
  const token = match[2] ?? "";
  if (!linkTokenSchema.safeParse(token).success) return undefined;
  return { kind: "link", token, gateway: `${url.origin}${match[1] ?? ""}` };
}

/** A gateway address as typed ("sos.example.com" means https) to its base URL, or a usage error. */
export function normalizeGateway(text: string): string {
  const trimmed = text.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `https://${trimmed}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch (cause) {
    throw new AgentError("usage", `Not a gateway address: ${text}`, { cause });
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new AgentError("usage", `Not a gateway address (http or https): ${text}`);
  }
  return `${url.origin}${url.pathname.replace(/\/$/, "")}`;
}

/** A PIN or link token in an executable's file name ("SOS-123456789.exe", "sos_<token>"). */
export function codeFromFileName(path: string): string | undefined {
  // Browsers may add " (1)" to a second download of the same file.
  const name = basename(path)
    .replace(/\.(exe|app)$/i, "")
    .replace(/ \(\d+\)$/, "");
  const pin = /(?:^|[^0-9])(\d{9})(?:$|[^0-9])/.exec(name)?.[1];
  if (pin !== undefined) return pin;
  // "sos_<token>", or "<Brand>-SOS-<token>" as the gateway's landing page names a branded build.
  const token = /(?:^|[-_])sos[-_]([A-Za-z0-9_-]{22,64})$/i.exec(name)?.[1];
  return token;
}

export type TargetSources = {
  readonly code: string | undefined;
  readonly gatewayOption: string | undefined;
  readonly env: NodeJS.ProcessEnv;
  readonly bakedGateway: string | undefined;
  readonly executable: string;
  /** Asks the end user (interactive only); undefined when nobody can be asked. */
  readonly ask: ((question: "pin" | "gateway") => Promise<string>) | undefined;
};

export async function resolveTarget(sources: TargetSources): Promise<JoinTarget> {
  let text = sources.code ?? codeFromFileName(sources.executable);
  if (text === undefined) {
    if (sources.ask === undefined) throw new AgentError("usage", "No session PIN or link given.");
    text = await sources.ask("pin");
  }
  let code = parseCode(text);
  if (code === undefined && !text.includes("/") && /^[A-Za-z0-9_-]{22,64}$/.test(text.trim())) {
    code = { kind: "link", token: text.trim(), gateway: "" };
  }
  if (code === undefined) throw new AgentError("usage", `Not a session PIN or link: ${text}`);
  if (code.kind === "link" && code.gateway !== "") {
    return { gateway: normalizeGateway(code.gateway), join: { kind: "link", token: code.token } };
  }
  let gateway = sources.gatewayOption ?? sources.env.SOS_GATEWAY ?? sources.bakedGateway;
  if (gateway === undefined || gateway.trim() === "") {
    if (sources.ask === undefined) {
      throw new AgentError("usage", "No gateway address: give --gateway <url> or set SOS_GATEWAY.");
    }
    gateway = await sources.ask("gateway");
  }
  const join: Join =
    code.kind === "pin" ? { kind: "pin", pin: code.pin } : { kind: "link", token: code.token };
  return { gateway: normalizeGateway(gateway), join };
}
