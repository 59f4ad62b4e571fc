import { useEffect, useState } from "preact/hooks";
import { isAuditAction } from "../../../shared/audit-actions.ts";
import type { AuditEntry } from "../../../shared/model.ts";
import { type AuditFilter, api, auditQuery } from "../lib/api.ts";
import { useI18n } from "../lib/i18n.ts";
import { useStore } from "../lib/store.ts";
import { technicians } from "../state/stores.ts";
import { Outcome } from "../ui/Messages.tsx";
import { SelectField } from "../ui/SelectField.tsx";
import { useAction } from "../ui/use-action.ts";

const PAGE = 100;

/**
 * Who did what to which session, newest first; filtered by session, technician and action. Each
 * action is shown in words, with the gateway's name for it beside (what the filter takes).
 */
export function AuditPage() {
  const { t, formatTime } = useI18n();
  const people = useStore(technicians);
  const [draft, setDraft] = useState({ sessionId: "", actorId: "", action: "" });
  const [filter, setFilter] = useState<AuditFilter>({});
  const [entries, setEntries] = useState<readonly AuditEntry[]>([]);
  const [more, setMore] = useState(false);
  const load = useAction();

  const fetchPage = (query: AuditFilter, append: boolean): void => {
    void load.run(async () => {
      const answer = await api.audit({ ...query, limit: PAGE });
      setEntries((previous) => (append ? [...previous, ...answer.entries] : answer.entries));
      setMore(answer.entries.length === PAGE);
    });
  };
  // The first page loads once; later loads come from the filter form and "Older entries".
  useEffect(() => fetchPage({}, false), []);

  const actorName = (entry: AuditEntry): string => {
    if (entry.actor.kind === "system") return t("admin.audit.system");
    if (entry.actor.kind === "agent") return t("admin.audit.agent");
    return entry.actor.name ?? entry.actor.id ?? "";
  };
  // In words where this console knows the action (an older gateway's may be unknown: as written).
  const actionLabel = (action: string): string =>
    isAuditAction(action) ? t(`audit.action.${action}`) : action;
  const oldest = entries.at(-1);

  return (
    <section class="admin" aria-labelledby="audit-title">
      <h1 id="audit-title">{t("admin.audit.title")}</h1>
      <form
        class="admin-form inline-form"
        aria-label={t("admin.audit.filter")}
        onSubmit={(event) => {
          event.preventDefault();
          const next: AuditFilter = {};
          if (draft.sessionId.trim() !== "") next.sessionId = draft.sessionId.trim();
          if (draft.actorId !== "") next.actorId = draft.actorId;
          if (draft.action.trim() !== "") next.action = draft.action.trim();
          setFilter(next);
          fetchPage(next, false);
        }}
      >
        <label>
          {t("admin.audit.session")}
          <input
            value={draft.sessionId}
            onInput={(event) => setDraft({ ...draft, sessionId: event.currentTarget.value })}
          />
        </label>
        <SelectField
          label={t("admin.audit.actor")}
          value={draft.actorId}
          onChange={(actorId) => setDraft({ ...draft, actorId })}
        >
          <option value="">{t("admin.audit.anyone")}</option>
          {people.map((technician) => (
            <option key={technician.id} value={technician.id}>
              {technician.name}
            </option>
          ))}
        </SelectField>
        <label>
          {t("admin.audit.action")}
          <input
            value={draft.action}
            onInput={(event) => setDraft({ ...draft, action: event.currentTarget.value })}
          />
        </label>
        <button type="submit" disabled={load.busy}>
          {t("admin.audit.apply")}
        </button>
        <a class="button" href={auditQuery(filter, "csv")} download="audit.csv">
          {t("admin.audit.export")}
        </a>
      </form>
      <Outcome error={load.error} />
      <table aria-label={t("admin.audit.title")}>
        <thead>
          <tr>
            <th scope="col">{t("admin.audit.time")}</th>
            <th scope="col">{t("admin.audit.actor")}</th>
            <th scope="col">{t("admin.audit.action")}</th>
            <th scope="col">{t("col.session")}</th>
            <th scope="col">{t("admin.audit.detail")}</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((entry) => (
            <tr key={entry.id}>
              <td>
                <time dateTime={entry.at}>{formatTime(entry.at)}</time>
              </td>
              <td>{actorName(entry)}</td>
              <td>
                <span class="audit-action">{actionLabel(entry.action)}</span>{" "}
                {/* The name the Action filter and the CSV export use. */}
                <small class="mono hint audit-action-name">{entry.action}</small>
              </td>
              <td class="mono">{entry.sessionId ?? ""}</td>
              <td class="mono detail">{JSON.stringify(entry.detail)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {!load.busy && entries.length === 0 && <p class="hint">{t("admin.audit.empty")}</p>}
      {more && oldest !== undefined && (
        <button
          type="button"
          disabled={load.busy}
          onClick={() => fetchPage({ ...filter, before: oldest.id }, true)}
        >
          {t("admin.audit.older")}
        </button>
      )}
    </section>
  );
}
