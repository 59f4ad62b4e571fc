import { useId, useState } from "preact/hooks";
import type { Invitation } from "../../../shared/model.ts";
import { copyText } from "../lib/clipboard.ts";
import { groupPin } from "../lib/format.ts";
import { useI18n } from "../lib/i18n.ts";
import { Outcome } from "../ui/Messages.tsx";

/** The link with its copy button, the PIN grouped for reading aloud, and what to tell the end user. */
export function InvitationView(props: { invitation: Invitation }) {
  const { t } = useI18n();
  const pinId = useId();
  const [copied, setCopied] = useState<boolean | null>(null);
  const pin = groupPin(props.invitation.pin);
  return (
    <div class="invitation">
      <label>
        {t("invitation.link")}
        <span class="with-button">
          <input readOnly value={props.invitation.link} onFocus={(event) => event.currentTarget.select()} />
          <button type="button" onClick={() => void copyText(props.invitation.link).then(setCopied)}>
            {t("invitation.copy")}
          </button>
        </span>
      </label>
      <Outcome
        error={copied === false ? t("copyFailed") : null}
        info={copied === true ? t("copied") : null}
      />
      <p class="pin-line">
        <span id={pinId}>{t("invitation.pin")}</span>
        <output class="pin" aria-labelledby={pinId}>
          {pin}
        </output>
      </p>
      <p class="tell">{t("invitation.tell", { pin })}</p>
    </div>
  );
}
