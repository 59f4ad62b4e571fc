import { useI18n } from "../lib/i18n.ts";
import { useStore } from "../lib/store.ts";
import { notice } from "../state/stores.ts";

/** Console-wide messages that belong to no form: socket refusals, lost connection. */
export function NoticeLine() {
  const { t } = useI18n();
  const current = useStore(notice);
  if (current === null) return null;
  return (
    <div class={`notice ${current.kind}`} role={current.kind === "error" ? "alert" : "status"}>
      <span>{current.text}</span>
      <button type="button" class="plain" aria-label={t("dismiss")} onClick={() => notice.set(null)}>
        ×
      </button>
    </div>
  );
}
