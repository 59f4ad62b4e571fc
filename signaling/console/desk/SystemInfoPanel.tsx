import { Fragment } from "preact";
import { useEffect, useState } from "preact/hooks";
import type { Session, Technician } from "../../../shared/model.ts";
import type { SystemInfo } from "../../../shared/system-info.ts";
import { api } from "../lib/api.ts";
import { copyText } from "../lib/clipboard.ts";
import { formatGiB } from "../lib/format.ts";
import { type Translate, useI18n } from "../lib/i18n.ts";
import { useStore } from "../lib/store.ts";
import { sendConsole } from "../state/connection.ts";
import { setSystemInfo, socketStatus, systemInfos } from "../state/stores.ts";

/** One fact: its label and its text (what the page shows and what "Copy to ticket" writes). */
type Fact = { label: string; value: string };

function facts(info: SystemInfo, t: Translate, lang: string): Fact[] {
  const hours = Math.floor(info.uptimeSeconds / 3600);
  const minutes = Math.floor((info.uptimeSeconds % 3600) / 60);
  const space = (d: { totalBytes: number; freeBytes: number }) =>
    t("sysinfo.free", { free: formatGiB(lang, d.freeBytes), total: formatGiB(lang, d.totalBytes) });
  return [
    {
      label: t("sysinfo.os"),
      value: `${info.os.name} (${info.os.platform} ${info.os.release}, ${info.os.arch})`,
    },
    { label: t("sysinfo.host"), value: info.hostname },
    { label: t("sysinfo.user"), value: info.user },
    { label: t("sysinfo.uptime"), value: t("sysinfo.hours", { hours, minutes }) },
    { label: t("sysinfo.cpu"), value: t("sysinfo.cores", { model: info.cpu.model, cores: info.cpu.cores }) },
    { label: t("sysinfo.memory"), value: space(info.memory) },
    { label: t("sysinfo.disks"), value: info.disks.map((d) => `${d.mount}: ${space(d)}`).join("; ") },
    {
      label: t("sysinfo.displays"),
      value: info.displays
        .map((d) => `${d.name} ${d.width}×${d.height}${d.primary ? ` (${t("sysinfo.primary")})` : ""}`)
        .join("; "),
    },
    {
      label: t("sysinfo.network"),
      value: info.network.map((n) => `${n.name}: ${n.addresses.map((a) => a.address).join(", ")}`).join("; "),
    },
    { label: t("sysinfo.app"), value: info.agentVersion },
  ];
}

/**
 * The end user's computer's facts: asked for by a technician the end user allowed, shown to all
 * who may see the session, copied to a ticket as plain text. Every value came from the agent and
 * is rendered as a text node.
 */
export function SystemInfoPanel(props: { session: Session; me: Technician }) {
  const { t, lang, formatTime } = useI18n();
  const { session, me } = props;
  const current = useStore(systemInfos).get(session.id);
  const status = useStore(socketStatus);
  const [copied, setCopied] = useState(false);

  useEffect(() => {
    if (status !== "open") return;
    let live = true;
    api
      .systemInfo(session.id)
      .then((answer) => {
        if (live && answer.info !== null && answer.at !== null)
          setSystemInfo(session.id, answer.info, answer.at);
      })
      .catch(() => {
        // Not allowed to see it, or the gateway is away: the panel stays empty.
      });
    return () => {
      live = false;
    };
  }, [session.id, status]);

  const granted = session.permissions.some((p) => p.technicianId === me.id && p.state === "granted");
  const canAsk = granted && session.agent.connected;
  const shown = current === undefined ? [] : facts(current.info, t, lang);
  const copy = async (): Promise<void> => {
    setCopied(await copyText(shown.map((fact) => `${fact.label}: ${fact.value}`).join("\n")));
  };
  return (
    <section class="sysinfo" aria-label={t("sysinfo.title")}>
      <h3>{t("sysinfo.title")}</h3>
      {current === undefined ? (
        <p class="hint">{t("sysinfo.none")}</p>
      ) : (
        <>
          <p class="hint">{t("sysinfo.received", { time: formatTime(current.at) })}</p>
          <dl>
            {shown.map((fact) => (
              <Fragment key={fact.label}>
                <dt>{fact.label}</dt>
                <dd>{fact.value}</dd>
              </Fragment>
            ))}
          </dl>
        </>
      )}
      <div class="sysinfo-actions">
        <button
          type="button"
          disabled={!canAsk}
          onClick={() => sendConsole({ type: "system.request", sessionId: session.id })}
        >
          {t("sysinfo.request")}
        </button>
        {current !== undefined && (
          <button type="button" onClick={() => void copy()}>
            {t("sysinfo.copy")}
          </button>
        )}
      </div>
      {!granted && <p class="hint">{t("sysinfo.needsPermission")}</p>}
      {copied && <p role="status">{t("sysinfo.copied")}</p>}
    </section>
  );
}
