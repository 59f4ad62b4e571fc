import type { Session } from "../../../shared/model.ts";
import { useI18n } from "../lib/i18n.ts";

/**
 * What the end user's agent says about its computer. These strings come from the agent, so they
 * are only ever rendered as text nodes (never as HTML).
 */
export function DeviceFacts(props: { session: Session }) {
  const { t } = useI18n();
  const { connected, device } = props.session.agent;
  return (
    <>
      <h3>{t("details.device")}</h3>
      <dl>
        <dt>{t("details.app")}</dt>
        <dd>
          {connected && device !== null
            ? t("details.appRunning", { version: device.agentVersion })
            : t("details.appNotRunning")}
        </dd>
        {device !== null && (
          <>
            <dt>{t("details.host")}</dt>
            <dd>{device.hostname}</dd>
            <dt>{t("details.user")}</dt>
            <dd>{device.user}</dd>
            <dt>{t("details.os")}</dt>
            <dd>{device.os}</dd>
          </>
        )}
      </dl>
    </>
  );
}
