/**
 * Every action the gateway writes to its audit trail. The audit log (signaling/domain/audit.ts)
 * takes only these, and the console has a label for each in both languages (its types demand
 * one), so a new action does not compile until it is worded. Entries written by an older gateway
 * may carry other names: the console shows those as they are.
 */
export const AUDIT_ACTIONS = [
  "setup.completed",
  "organization.updated",
  "auth.signed_in",
  "auth.signed_out",
  "auth.sign_in_failed",
  "technician.created",
  "technician.updated",
  "channel.created",
  "channel.updated",
  "session.created",
  "session.assigned",
  "session.transferred",
  "session.released",
  "session.invited",
  "session.link_copied",
  "session.pin_shown",
  "session.closed",
  "session.deleted",
  "session.expired",
  "session.permission_requested",
  "session.consent_granted",
  "session.consent_denied",
  "session.consent_revoked",
  "session.continue_asked",
  "session.continue_confirmed",
  "session.continue_declined",
  "session.continue_unanswered",
  "session.remote_connected",
  "session.remote_disconnected",
  "session.remote_path",
  "session.chat_line",
  "session.file",
  "session.system_info_requested",
  "session.system_info_sent",
  "agent.joined",
  "agent.resumed",
  "agent.lost",
  "agent.ended",
  "recording.started",
  "recording.confirmed",
  "recording.stopped",
  "recording.watched",
  "recording.downloaded",
  "recording.deleted",
  "build.started",
  "build.cancel_requested",
  "build.running",
  "build.succeeded",
  "build.failed",
  "build.cancelled",
  "retention.deleted",
] as const;

export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export function isAuditAction(value: string): value is AuditAction {
  return (AUDIT_ACTIONS as readonly string[]).includes(value);
}
