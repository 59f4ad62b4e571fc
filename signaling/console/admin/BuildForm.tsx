import { useEffect, useState } from "preact/hooks";
import type { z } from "zod";
import { buildJobResponseSchema, type buildJobSchema, startBuildRequestSchema } from "../../../shared/api.ts";
import { BUILD_TARGETS, type BuildTarget, buildConfigSchema } from "../../../shared/build-config.ts";
import { decodeMessage } from "../../../shared/decode.ts";
import { api } from "../lib/api.ts";
import { formatMiB } from "../lib/format.ts";
import { useI18n } from "../lib/i18n.ts";
import { Outcome } from "../ui/Messages.tsx";
import { useAction } from "../ui/use-action.ts";
import { SYSTEM_NAMES } from "./system-names.ts";

type BuildJob = z.infer<typeof buildJobSchema>;
type StartBuild = z.input<typeof startBuildRequestSchema>;

/**
 * The standard build: unbranded, for the systems the package registry can supply today (README,
 * "What can be built here"; darwin lacks Node 24 and the encoder there).
 */
const STANDARD_BUILD: StartBuild = { brand: "SOS", targets: ["linux-x64", "win-x64"] };

/**
 * The gateway's build job as it changes: `GET /api/builds/job/events` (Server-Sent Events), each
 * event the whole job, decoded here by the shared schema.
 */
function useBuildJob(): BuildJob | null {
  const [job, setJob] = useState<BuildJob | null>(null);
  useEffect(() => {
    const events = new EventSource("/api/builds/job/events");
    events.addEventListener("job", (event) => {
      const decoded = decodeMessage(
        buildJobResponseSchema,
        `{"job":${(event as MessageEvent<string>).data}}`,
      );
      if (decoded.ok) setJob(decoded.value.job);
    });
    return () => events.close();
  }, []);
  return job;
}

/** The form that builds an SOS app on the gateway, its live progress, and Cancel. */
export function BuildForm(props: { organization: string; noBuilds: boolean; onFinished: () => void }) {
  const { t, lang } = useI18n();
  const job = useBuildJob();
  const brandFits = buildConfigSchema.shape.brand.safeParse(props.organization).success;
  const [brand, setBrand] = useState(brandFits ? props.organization : "");
  const [supportMessage, setSupportMessage] = useState("");
  const [color, setColor] = useState("");
  const [targets, setTargets] = useState<readonly BuildTarget[]>(["linux-x64"]);
  const action = useAction();
  const running = job?.state === "running";

  useEffect(() => {
    if (job !== null && job.state !== "running") props.onFinished();
  }, [job?.id, job?.state]);

  const start = (request: StartBuild) => {
    const checked = startBuildRequestSchema.safeParse(request);
    if (!checked.success) {
      const issue = checked.error.issues[0];
      void action.run(async () => {
        throw new Error(`${String(issue?.path[0] ?? "")}: ${issue?.message ?? ""}`);
      });
      return;
    }
    void action.run(() => api.startBuild(checked.data));
  };

  const outcome =
    job === null
      ? null
      : job.state === "running"
        ? t("admin.builds.running", { brand: job.brand })
        : job.state === "succeeded"
          ? t("admin.builds.succeeded", {
              files: job.built
                .map((b) => `${b.file} (${t("admin.builds.mib", { size: formatMiB(lang, b.size) })})`)
                .join(", "),
            })
          : job.state === "cancelled"
            ? t("admin.builds.cancelled")
            : t("admin.builds.failed", {
                reasons: job.failed.map((f) => `${f.target}: ${f.reason}`).join("; "),
              });

  return (
    <section class="admin-form" aria-labelledby="build-form-title">
      <h2 id="build-form-title">{t("admin.builds.form")}</h2>
      <p class="hint">{t("admin.builds.formHint")}</p>
      {props.noBuilds && !running && (
        <p>
          <button type="button" disabled={action.busy} onClick={() => start(STANDARD_BUILD)}>
            {t("admin.builds.default")}
          </button>{" "}
          <span class="hint">{t("admin.builds.defaultHint")}</span>
        </p>
      )}
      <form
        onSubmit={(event) => {
          event.preventDefault();
          start({
            brand,
            ...(supportMessage.trim() === "" ? {} : { supportMessage }),
            ...(color.trim() === "" ? {} : { primaryColor: color.trim() }),
            targets: [...targets],
          });
        }}
      >
        <label>
          {t("admin.builds.brand")}
          <input required maxLength={40} value={brand} onInput={(e) => setBrand(e.currentTarget.value)} />
        </label>
        <label>
          {t("admin.builds.supportMessage")}
          <input
            maxLength={200}
            value={supportMessage}
            onInput={(e) => setSupportMessage(e.currentTarget.value)}
          />
        </label>
        <label>
          {t("admin.builds.color")}
          <input
            class="mono"
            maxLength={7}
            placeholder="#1f6feb"
            value={color}
            onInput={(e) => setColor(e.currentTarget.value)}
          />
        </label>
        <fieldset>
          <legend>{t("admin.builds.systems")}</legend>
          {BUILD_TARGETS.map((target) => (
            <label key={target} class="inline">
              <input
                type="checkbox"
                checked={targets.includes(target)}
                onChange={(e) => {
                  const on = e.currentTarget.checked;
                  setTargets((now) => (on ? [...now, target] : now.filter((x) => x !== target)));
                }}
              />
              {SYSTEM_NAMES[target]}
            </label>
          ))}
        </fieldset>
        <p>
          <button type="submit" class="primary" disabled={action.busy || running}>
            {t("admin.builds.build")}
          </button>{" "}
          {running && (
            <button type="button" onClick={() => void action.run(() => api.cancelBuild())}>
              {t("admin.builds.cancel")}
            </button>
          )}
        </p>
      </form>
      <Outcome error={action.error} />
      {job !== null && (
        <section aria-label={t("admin.builds.progress")}>
          <p role="status">{outcome}</p>
          <pre class="pre mono" role="log">
            {job.progress.join("\n")}
          </pre>
        </section>
      )}
    </section>
  );
}
