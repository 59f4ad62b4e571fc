import { useState } from "preact/hooks";
import type { TechnicianControl } from "../../../shared/control.ts";
import { MAX_CLIPBOARD_CHARS } from "../../../shared/limits.ts";
import { copyText } from "../lib/clipboard.ts";
import { useI18n } from "../lib/i18n.ts";
import { Outcome } from "../ui/Messages.tsx";

/** Clipboard text both ways, on request: typed or pasted here and sent; received and copied. */
export function ClipboardPanel(props: {
  remoteText: string | null;
  canSend: boolean;
  send: (message: TechnicianControl) => void;
}) {
  const { t } = useI18n();
  const [text, setText] = useState("");
  const [info, setInfo] = useState<string | null>(null);
  return (
    <details class="clipboard">
      <summary>{t("remote.clipboard")}</summary>
      <label>
        {t("remote.clipboardText")}
        <textarea
          rows={3}
          maxLength={MAX_CLIPBOARD_CHARS}
          value={text}
          onInput={(event) => setText(event.currentTarget.value)}
        />
      </label>
      <button
        type="button"
        disabled={!props.canSend || text === ""}
        onClick={() => {
          props.send({ type: "clipboard", text });
          setInfo(t("remote.clipboardSent"));
        }}
      >
        {t("remote.clipboardSend")}
      </button>
      {props.remoteText !== null && (
        <>
          <label>
            {t("remote.clipboardReceived")}
            <textarea rows={3} readOnly value={props.remoteText} />
          </label>
          <button
            type="button"
            onClick={() => {
              const received = props.remoteText ?? "";
              void copyText(received).then((ok) => setInfo(ok ? t("copied") : t("copyFailed")));
            }}
          >
            {t("remote.clipboardCopy")}
          </button>
        </>
      )}
      <Outcome error={null} info={info} />
    </details>
  );
}
