import type { SessionStatus } from "../../../shared/status.ts";
import { useI18n } from "../lib/i18n.ts";

export function StatusBadge(props: { status: SessionStatus }) {
  const { t } = useI18n();
  return <span class={`status status-${props.status.toLowerCase()}`}>{t(`status.${props.status}`)}</span>;
}
