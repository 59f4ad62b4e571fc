import { useState } from "preact/hooks";
import type { FileErrorCode } from "../../../shared/file-transfer.ts";
import { MAX_FOLDER_ZIP_BYTES } from "../../../shared/limits.ts";
import { formatMiB } from "../lib/format.ts";
import { useI18n } from "../lib/i18n.ts";
import { useStore } from "../lib/store.ts";
import type { FileLink, Transfer } from "./file-link.ts";
import { zipFolder } from "./folder-zip.ts";

const ENDED = new Set<Transfer["phase"]>(["done", "failed", "cancelled"]);

/**
 * File transfers of the remote view: pick files to send to the end user (or drop them on the
 * screen), fetch the files the end user offers, and every transfer with its progress, speed and a
 * cancel button. Names are shown as text.
 */
export function FilesPanel(props: { link: FileLink; canSend: boolean }) {
  const { t, lang } = useI18n();
  const transfers = useStore(props.link.transfers);
  const offered = transfers.filter((transfer) => transfer.direction === "in" && transfer.phase === "offered");
  const [zipping, setZipping] = useState(false);
  const [folderError, setFolderError] = useState<string | null>(null);
  const mib = (bytes: number) => `${formatMiB(lang, bytes)} MiB`;
  const error = (code: FileErrorCode) => t(`remote.fileError.${code}`);
  return (
    // Opened by the first transfer or offer, and left as the technician sets it from then on.
    <details class="files" open={transfers.length > 0 || undefined}>
      <summary>
        {t("remote.files")}
        {offered.length > 0 && ` (${t("remote.filesOffered", { count: offered.length })})`}
      </summary>
      <label>
        {t("remote.filesPick")}
        <input
          type="file"
          multiple
          disabled={!props.canSend}
          onChange={(event) => {
            const input = event.currentTarget;
            for (const file of Array.from(input.files ?? [])) props.link.send(file);
            input.value = "";
          }}
        />
      </label>
      <label>
        {t("remote.filesFolder")}
        <input
          type="file"
          // @ts-expect-error: webkitdirectory is not in Preact's attribute types; every browser we support takes it.
          webkitdirectory={true}
          disabled={!props.canSend || zipping}
          onChange={(event) => {
            const input = event.currentTarget;
            const files = Array.from(input.files ?? []);
            input.value = "";
            setZipping(true);
            void zipFolder(files)
              .then((zip) => {
                setFolderError(
                  zip === undefined
                    ? t("remote.filesFolderTooLarge", { max: mib(MAX_FOLDER_ZIP_BYTES) })
                    : null,
                );
                if (zip !== undefined) props.link.send(zip);
              })
              .finally(() => setZipping(false));
          }}
        />
      </label>
      {folderError !== null && <p role="alert">{folderError}</p>}
      <p class="hint">{props.canSend ? t("remote.filesDrop") : t("remote.filesNeedControl")}</p>
      <p class="hint">{t("remote.filesLimit", { max: mib(props.link.maxBytes) })}</p>
      {transfers.length > 0 && (
        <ul class="transfers" aria-label={t("remote.fileTransfers")}>
          {[...transfers].reverse().map((transfer) => (
            <li key={`${transfer.direction}${transfer.id}`} class={`transfer transfer-${transfer.phase}`}>
              <span class="transfer-name">
                {t(transfer.direction === "out" ? "remote.fileTo" : "remote.fileFrom", {
                  name: transfer.name,
                  size: mib(transfer.size),
                })}
              </span>
              {(transfer.phase === "sending" ||
                transfer.phase === "receiving" ||
                transfer.phase === "paused") && (
                <>
                  <progress
                    max={Math.max(1, transfer.size)}
                    value={transfer.bytes}
                    aria-label={t("remote.fileProgress", { name: transfer.name })}
                  />
                  <span class="transfer-speed">
                    {t("remote.fileSpeed", {
                      done: mib(transfer.bytes),
                      size: mib(transfer.size),
                      speed: mib(transfer.bytesPerSecond),
                    })}
                  </span>
                </>
              )}
              <span class="transfer-phase" role="status">
                {transfer.phase === "failed" && transfer.code !== null
                  ? `${t("remote.filePhase.failed")}: ${error(transfer.code)}`
                  : t(
                      `remote.filePhase.${transfer.direction === "in" && transfer.phase === "offered" ? "offeredIn" : transfer.phase}`,
                    )}
              </span>
              {transfer.direction === "in" && transfer.phase === "offered" && transfer.code === null && (
                <button type="button" onClick={() => props.link.fetch(transfer.id)}>
                  {t("remote.fileFetch", { name: transfer.name })}
                </button>
              )}
              {!ENDED.has(transfer.phase) && (
                <button type="button" onClick={() => props.link.cancel(transfer.direction, transfer.id)}>
                  {t("remote.fileCancel", { name: transfer.name })}
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
    </details>
  );
}
