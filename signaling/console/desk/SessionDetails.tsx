import { useState } from "preact/hooks";
import type { Channel, PersonRef, Session, Technician } from "../../../shared/model.ts";
import { api } from "../lib/api.ts";
import { copyText } from "../lib/clipboard.ts";
import { useI18n } from "../lib/i18n.ts";
import type { MessageKey } from "../lib/messages.en.ts";
import { allowedActions, type SessionAction } from "../lib/session-actions.ts";
import { channelName } from "../ui/channel-name.ts";
import { Icon, type IconName } from "../ui/Icon.tsx";
import { Outcome } from "../ui/Messages.tsx";
import type { ActionRunner } from "../ui/use-action.ts";
import { ChatPanel } from "./ChatPanel.tsx";
import { DeviceFacts } from "./DeviceFacts.tsx";
import { RecordingsPanel } from "./RecordingsPanel.tsx";
import { StartRemoteButton } from "./StartRemoteButton.tsx";
import { StatusBadge } from "./StatusBadge.tsx";
import { SystemInfoPanel } from "./SystemInfoPanel.tsx";

/** The actions that open a dialog first; the others act at once. */
export type SessionDialog = "assign" | "transfer" | "invite" | "showPin" | "close" | "delete";

const BUTTONS: ReadonlyArray<{
  action: Exclude<SessionAction, "startRemote">;
  icon: IconName;
  label: MessageKey;
}> = [
  { action: "assign", icon: "assign", label: "action.assign" },
  { action: "transfer", icon: "transfer", label: "action.transfer" },
  { action: "invite", icon: "invite", label: "action.invite" },
  { action: "copyLink", icon: "link", label: "action.copyLink" },
  { action: "showPin", icon: "pin", label: "action.showPin" },
  { action: "release", icon: "release", label: "action.release" },
  { action: "close", icon: "close", label: "action.close" },
  { action: "delete", icon: "trash", label: "action.delete" },
];

export function SessionDetails(props: {
  session: Session | null;
  me: Technician;
  channels: readonly Channel[];
  technicians: readonly Technician[];
  action: ActionRunner;
  onDialog: (dialog: SessionDialog) => void;
}) {
  const { t, formatTime } = useI18n();
  const [manualLink, setManualLink] = useState<string | null>(null);
  const { session, me, action } = props;
  if (session === null) {
    return (
      <section class="details" aria-label={t("details.title")}>
        <p class="hint">{t("details.empty")}</p>
        <Outcome error={action.error} info={action.info} />
      </section>
    );
  }
  const allowed = allowedActions({ me, session, channels: props.channels });
  const nameOf = (id: string): string => {
    const people: PersonRef[] = [...session.invited, session.createdBy];
    if (session.assignee !== null) people.push(session.assignee);
    return (
      people.find((person) => person.id === id)?.name ??
      props.technicians.find((technician) => technician.id === id)?.name ??
      id
    );
  };
  const channel = props.channels.find((candidate) => candidate.id === session.channelId);
  const act = (which: Exclude<SessionAction, "startRemote">): void => {
    setManualLink(null);
    switch (which) {
      case "copyLink":
        void action.run(async () => {
          const { link } = await api.invitation(session.id, "link");
          if (!(await copyText(link))) setManualLink(link);
        }, t("linkCopied"));
        return;
      case "release":
        void action.run(() => api.release(session.id), t("done.release"));
        return;
      default:
        action.clear();
        props.onDialog(which);
    }
  };
  return (
    <section class="details" aria-label={t("details.title")}>
      <h2>{session.name === "" ? t("unnamed") : session.name}</h2>
      <dl>
        <dt>{t("col.status")}</dt>
        <dd>
          <StatusBadge status={session.status} />
        </dd>
        {channel !== undefined && (
          <>
            <dt>{t("details.channel")}</dt>
            <dd>{channelName(channel, t)}</dd>
          </>
        )}
        {session.note !== "" && (
          <>
            <dt>{t("details.note")}</dt>
            <dd class="pre">{session.note}</dd>
          </>
        )}
        <dt>{t("col.assignee")}</dt>
        <dd>{session.assignee?.name ?? t("nobody")}</dd>
        <dt>{t("col.invited")}</dt>
        <dd>{session.invited.length === 0 ? t("nobody") : session.invited.map((p) => p.name).join(", ")}</dd>
        <dt>{t("details.createdBy")}</dt>
        <dd>{session.createdBy.name}</dd>
        <dt>{t("details.expires")}</dt>
        <dd>
          <time dateTime={session.expiresAt}>{formatTime(session.expiresAt)}</time>
        </dd>
        <ContinuationFacts session={session} />
      </dl>
      <DeviceFacts session={session} />
      {session.permissions.length > 0 && (
        <>
          <h3>{t("details.permissions")}</h3>
          <ul class="plain-list">
            {session.permissions.map((entry) => (
              <li key={entry.technicianId}>
                {nameOf(entry.technicianId)}:{" "}
                {t(`permission.${entry.state}`, { access: t(`access.${entry.access ?? "view"}`) })}
              </li>
            ))}
          </ul>
        </>
      )}
      {session.viewers.length > 0 && (
        <p>
          {t("details.viewers")}: {session.viewers.map(nameOf).join(", ")}
        </p>
      )}
      <div class="actions" role="toolbar" aria-label={t("actions.label")}>
        <StartRemoteButton session={session} me={me} action={action} withCaption />
        {BUTTONS.map((button) => (
          <button
            key={button.action}
            type="button"
            class={`action${button.action === "delete" ? " danger" : ""}`}
            disabled={!allowed[button.action] || action.busy}
            onClick={() => act(button.action)}
          >
            <Icon name={button.icon} />
            {t(button.label)}
          </button>
        ))}
      </div>
      <Outcome error={action.error} info={manualLink === null ? action.info : null} />
      {manualLink !== null && (
        <label class="manual-copy">
          {t("copyFailed")}
          <input readOnly value={manualLink} onFocus={(event) => event.currentTarget.select()} />
        </label>
      )}
      <SystemInfoPanel session={session} me={me} />
      <RecordingsPanel session={session} me={me} />
      <ChatPanel session={session} me={me} />
    </section>
  );
}

/** Whether the end user is being asked to let the session continue, and how that ended. */
function ContinuationFacts(props: { session: Session }) {
  const { t, formatTime } = useI18n();
  const continuation = props.session.continuation;
  if (continuation === null || continuation.state === "running") return null;
  const time = formatTime(continuation.deadline ?? continuation.since);
  return (
    <>
      <dt>{t("details.continuation")}</dt>
      <dd class={`continuation continuation-${continuation.state}`} role="status">
        {t(`details.continuation.${continuation.state}`, { time })}
      </dd>
    </>
  );
}
