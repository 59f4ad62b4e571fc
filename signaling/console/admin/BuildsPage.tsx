import { useEffect, useState } from "preact/hooks";
import type { z } from "zod";
import type { buildListSchema } from "../../../shared/api.ts";
import { buildConfigSchema } from "../../../shared/build-config.ts";
import { api } from "../lib/api.ts";
import { copyText } from "../lib/clipboard.ts";
import { buildCommand, formatMiB } from "../lib/format.ts";
import { useI18n } from "../lib/i18n.ts";
import { useStore } from "../lib/store.ts";
import { auth } from "../state/stores.ts";
import { Outcome } from "../ui/Messages.tsx";
import { useAction } from "../ui/use-action.ts";
import { BuildForm } from "./BuildForm.tsx";
import { SYSTEM_NAMES } from "./system-names.ts";

type BuildList = z.infer<typeof buildListSchema>;

/** The branded SOS apps in the gateway's downloads folder, and the command that makes one. */
export function BuildsPage() {
  const { t, lang, formatTime } = useI18n();
  const current = useStore(auth);
  const organization = current.kind === "signedIn" ? current.me.organization.name : "";
  const [list, setList] = useState<BuildList | null>(null);
  const [copied, setCopied] = useState<boolean | null>(null);
  const load = useAction();

  const reload = () => void load.run(async () => setList(await api.builds()));
  useEffect(reload, []);

  const builds = list?.builds ?? [];
  const command =
    list === null
      ? ""
      : buildCommand({ gateway: location.origin, brand: organization, out: list.downloadsDir });
  const brandFits = buildConfigSchema.shape.brand.safeParse(organization).success;

  return (
    <section class="admin" aria-labelledby="builds-title">
      <h1 id="builds-title">{t("admin.builds.title")}</h1>
      <Outcome error={load.error} />
      {list !== null && (
        <p>
          {t("admin.builds.folder")} <span class="mono">{list.downloadsDir}</span>
        </p>
      )}
      {builds.length > 0 && (
        <table aria-label={t("admin.builds.list")}>
          <thead>
            <tr>
              <th scope="col">{t("admin.builds.system")}</th>
              <th scope="col">{t("admin.builds.file")}</th>
              <th scope="col">{t("admin.builds.size")}</th>
              <th scope="col">{t("admin.builds.date")}</th>
              <th scope="col">{t("admin.builds.sha256")}</th>
            </tr>
          </thead>
          <tbody>
            {builds.map((build) => (
              <tr key={build.target}>
                <td>{SYSTEM_NAMES[build.target]}</td>
                <td class="mono">{build.file}</td>
                <td>{t("admin.builds.mib", { size: formatMiB(lang, build.size) })}</td>
                <td>
                  <time dateTime={build.modifiedAt}>{formatTime(build.modifiedAt)}</time>
                </td>
                <td class="mono sha256">{build.sha256}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {list !== null && builds.length === 0 && <p class="hint">{t("admin.builds.empty")}</p>}
      {list !== null && (
        <BuildForm organization={organization} noBuilds={builds.length === 0} onFinished={reload} />
      )}
      {list !== null && (
        <section class="admin-form" aria-labelledby="builds-how-to">
          <h2 id="builds-how-to">{t("admin.builds.howTo")}</h2>
          <p>{t("admin.builds.run")}</p>
          <label>
            {t("admin.builds.command")}
            <textarea
              class="mono"
              readOnly
              rows={3}
              value={command}
              onFocus={(event) => event.currentTarget.select()}
            />
          </label>
          <p>
            <button type="button" onClick={() => void copyText(command).then(setCopied)}>
              {t("admin.builds.copy")}
            </button>
          </p>
          <Outcome
            error={copied === false ? t("admin.builds.copyFailed") : null}
            info={copied === true ? t("copied") : null}
          />
          {!brandFits && <p class="hint">{t("admin.builds.badBrand")}</p>}
          <p>{t("admin.builds.landing")}</p>
          <p class="hint">{t("admin.builds.targets")}</p>
        </section>
      )}
    </section>
  );
}
