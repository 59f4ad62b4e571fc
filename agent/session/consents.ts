/**
 * What the end user allowed, per technician, in this run of the agent. The gateway asks and opens
 * peers, but the agent itself checks every peer and every input event against this record, so a
 * gateway that sends `peer.open` without consent gets nothing.
 */
import type { ConsentDecision } from "../../shared/agent-protocol.ts";
import type { AccessMode } from "../../shared/status.ts";

export class Consents {
  readonly #granted = new Map<string, AccessMode>();
  /** Answers given, by request id: a request the gateway sends again after a resume is not asked twice. */
  readonly #answered = new Map<string, ConsentDecision>();
  /** Technicians the end user allowed control but no incoming files (answer "o"). */
  readonly #noFiles = new Set<string>();

  record(requestId: string, technicianId: string, decision: ConsentDecision, files = true): void {
    this.#answered.set(requestId, decision);
    if (decision === "deny") this.#granted.delete(technicianId);
    else this.#granted.set(technicianId, decision);
    if (files) this.#noFiles.delete(technicianId);
    else this.#noFiles.add(technicianId);
  }

  /** Whether the end user's last answer to this technician let files come in. */
  filesAllowed(technicianId: string): boolean {
    return !this.#noFiles.has(technicianId);
  }

  answerTo(requestId: string): ConsentDecision | undefined {
    return this.#answered.get(requestId);
  }

  /** The lesser of what was granted and what a peer asks for. */
  allow(technicianId: string, requested: AccessMode): AccessMode | undefined {
    const granted = this.#granted.get(technicianId);
    if (granted === undefined) return undefined;
    return granted === "control" && requested === "control" ? "control" : "view";
  }

  get any(): boolean {
    return this.#granted.size > 0;
  }

  revokeAll(): void {
    this.#granted.clear();
  }
}
