import type { Session, Technician } from "../../../shared/model.ts";
import { useI18n } from "../lib/i18n.ts";
import type { ActionRunner } from "../ui/use-action.ts";
import { StartRemoteButton } from "./StartRemoteButton.tsx";
import { StatusBadge } from "./StatusBadge.tsx";

/** The sessions of one channel; rows change in place as the socket pushes updates. */
export function SessionTable(props: {
  label: string;
  sessions: readonly Session[];
  me: Technician;
  selectedId: string | null;
  onSelect: (sessionId: string) => void;
  action: ActionRunner;
}) {
  const { t, formatTime } = useI18n();
  return (
    <table class="sessions" aria-label={props.label}>
      <thead>
        <tr>
          <th scope="col">{t("col.session")}</th>
          <th scope="col">{t("col.status")}</th>
          <th scope="col">{t("col.assignee")}</th>
          <th scope="col">{t("col.invited")}</th>
          <th scope="col">{t("col.created")}</th>
          <th scope="col">{t("col.lastActivity")}</th>
          <th scope="col">{t("col.remote")}</th>
        </tr>
      </thead>
      <tbody>
        {props.sessions.map((session) => {
          const selected = session.id === props.selectedId;
          return (
            <tr key={session.id} class={selected ? "selected" : undefined}>
              <td>
                <button
                  type="button"
                  class="link"
                  aria-pressed={selected}
                  onClick={() => props.onSelect(session.id)}
                >
                  {session.name === "" ? t("unnamed") : session.name}
                </button>
                {session.note !== "" && <div class="note">{session.note}</div>}
              </td>
              <td>
                <StatusBadge status={session.status} />
              </td>
              <td>{session.assignee?.name ?? t("nobody")}</td>
              <td>
                {session.invited.length === 0
                  ? t("nobody")
                  : session.invited.map((person) => person.name).join(", ")}
              </td>
              <td>
                <time dateTime={session.createdAt}>{formatTime(session.createdAt)}</time>
              </td>
              <td>
                <time dateTime={session.lastActivityAt}>{formatTime(session.lastActivityAt)}</time>
              </td>
              <td>
                <StartRemoteButton
                  session={session}
                  me={props.me}
                  action={props.action}
                  onActivate={() => props.onSelect(session.id)}
                />
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
