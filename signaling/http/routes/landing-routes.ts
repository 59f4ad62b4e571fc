import { createReadStream } from "node:fs";
import { z } from "zod";
import { buildTargetSchema } from "../../../shared/build-config.ts";
import { SosError } from "../../../shared/errors.ts";
import { type AvailableBuild, buildSha256, listBuilds, targetOf } from "../../downloads/build-catalog.ts";
import type { EncodedCopies, EncodedCopy } from "../../downloads/encoded-copies.ts";
import { chooseEncoding } from "../../downloads/encodings.ts";
import type { SessionRow } from "../../store/rows.ts";
import type { App } from "../types.ts";
import { byteRange } from "./recording-routes.ts";

const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c,
  );

const TEXT = {
  en: {
    title: "Remote support",
    invited: (org: string) => `${org} invites you to a remote support session.`,
    steps: [
      "Download and start the SOS app for your computer.",
      "If it asks, enter the PIN below.",
      "When your technician asks, choose whether to allow it. You can stop at any time.",
    ],
    pin: "Your PIN",
    download: (platform: string) => `Download the SOS app for ${platform}`,
    others: "Other systems:",
    noBuild: "Your technician will tell you where to get the SOS app.",
    run: "Or, with the app already installed, run:",
    dead: "This support link is not valid or the session has ended. Ask your technician for a new one.",
    warning: "Only continue if you asked for help. Never allow someone who contacted you unexpectedly.",
  },
  de: {
    title: "Fernwartung",
    invited: (org: string) => `${org} lädt Sie zu einer Fernwartungssitzung ein.`,
    steps: [
      "Laden Sie die SOS-App für Ihren Computer herunter und starten Sie sie.",
      "Geben Sie bei Nachfrage die PIN unten ein.",
      "Wenn Ihr Techniker fragt, entscheiden Sie, ob Sie es erlauben. Sie können jederzeit beenden.",
    ],
    pin: "Ihre PIN",
    download: (platform: string) => `SOS-App für ${platform} herunterladen`,
    others: "Andere Systeme:",
    noBuild: "Ihr Techniker sagt Ihnen, wo Sie die SOS-App bekommen.",
    run: "Oder, wenn die App schon installiert ist:",
    dead: "Dieser Link ist ungültig oder die Sitzung ist beendet. Bitten Sie Ihren Techniker um einen neuen.",
    warning:
      "Fahren Sie nur fort, wenn Sie um Hilfe gebeten haben. Erlauben Sie niemals Zugriff für Unbekannte, die Sie unaufgefordert kontaktieren.",
  },
} as const;

/** The end user's landing page behind a session link: what to do, and the PIN. */
const PLATFORM_NAMES = {
  "linux-x64": "Linux",
  "win-x64": "Windows",
  "darwin-x64": "macOS (Intel)",
  "darwin-arm64": "macOS (Apple silicon)",
} as const;

/** The name the visitor's copy gets: it carries the session code, so the app joins without a PIN. */
export function downloadName(build: AvailableBuild, token: string): string {
  return `${build.stem}-SOS-${token}${build.target === "win-x64" ? ".exe" : ""}`;
}

/** The compressed copy to send for an `Accept-Encoding` header, if the request accepts one. */
function pickCopy(acceptEncoding: string | undefined, copies: EncodedCopy[]): EncodedCopy | undefined {
  const encoding = chooseEncoding(
    acceptEncoding,
    copies.map((c) => c.encoding),
  );
  return copies.find((c) => c.encoding === encoding);
}

/** The end user's landing page behind a session link: what to do, the download, and the PIN. */
export function landingRoutes(
  app: App,
  deps: {
    /** The live session behind a link token (Invitations.byLink). */
    liveSession: (token: string) => Promise<SessionRow | undefined>;
    organizationName: () => Promise<string>;
    publicUrl: () => string;
    downloadsDir: string;
    /** The downloads' compressed copies (Content-Encoding), for a request that accepts one. */
    encodedCopies: EncodedCopies;
  },
): void {
  const { liveSession } = deps;

  app.get(
    "/s/:token/download/:target",
    { schema: { hide: true, params: z.object({ token: z.string().max(128), target: z.string().max(32) }) } },
    async (request, reply) => {
      const target = buildTargetSchema.safeParse(request.params.target);
      const session = await liveSession(request.params.token);
      const build = target.success
        ? listBuilds(deps.downloadsDir).find((b) => b.target === target.data)
        : undefined;
      if (session === undefined || build === undefined) throw new SosError("NOT_FOUND", "Not found.");
      const sha256 = await buildSha256(build);
      reply
        .header("content-type", "application/octet-stream")
        .header("content-disposition", `attachment; filename="${downloadName(build, session.linkToken)}"`)
        .header("cache-control", "no-store")
        .header("vary", "accept-encoding");
      const plain = `"${sha256}"`;
      // A resume (Range, with If-Range naming the plain file or none) gets bytes of the plain file.
      const ifRange = request.headers["if-range"];
      const range =
        ifRange === undefined || ifRange === plain ? byteRange(request.headers.range, build.size) : undefined;
      const copy =
        range === undefined
          ? pickCopy(request.headers["accept-encoding"], deps.encodedCopies.of(sha256))
          : undefined;
      if (copy !== undefined) {
        // The compressed form is sent whole: a broken transfer starts again (see docs/deploy.md).
        return reply
          .header("content-encoding", copy.encoding)
          .header("content-length", String(copy.size))
          .header("etag", `"${sha256}-${copy.encoding}"`)
          .header("accept-ranges", "none")
          .send(createReadStream(copy.path));
      }
      if (range === undefined && deps.encodedCopies.of(sha256).length === 0) {
        // Not made yet (a build copied in by hand, or still compressing): made in the background.
        void deps.encodedCopies.refresh();
      }
      const { start, end } = range ?? { start: 0, end: build.size - 1 };
      reply
        .header("etag", plain)
        .header("accept-ranges", "bytes")
        .header("content-length", String(end - start + 1));
      if (range !== undefined) reply.code(206).header("content-range", `bytes ${start}-${end}/${build.size}`);
      return reply.send(build.size === 0 ? "" : createReadStream(build.path, { start, end }));
    },
  );

  app.get(
    "/s/:token",
    { schema: { hide: true, params: z.object({ token: z.string().max(128) }) } },
    async (request, reply) => {
      const lang = /^de\b/i.test(request.headers["accept-language"] ?? "") ? "de" : "en";
      const t = TEXT[lang];
      const session = await liveSession(request.params.token);
      const live = session !== undefined;
      const organization = await deps.organizationName();
      const org = escapeHtml(organization);
      const pin = session?.pin ?? "";
      const builds = listBuilds(deps.downloadsDir);
      const preferred = targetOf(request.headers["user-agent"]);
      const first = builds.find((b) => b.target === preferred) ?? builds[0];
      const href = (target: string) => `/s/${escapeHtml(request.params.token)}/download/${target}`;
      const downloads =
        first === undefined
          ? `<p>${escapeHtml(t.noBuild)}</p>`
          : `<p><a class="download" href="${href(first.target)}" download>${escapeHtml(t.download(PLATFORM_NAMES[first.target]))}</a></p>${
              builds.length > 1
                ? `<p>${escapeHtml(t.others)} ${builds
                    .filter((b) => b !== first)
                    .map(
                      (b) =>
                        `<a href="${href(b.target)}" download>${escapeHtml(PLATFORM_NAMES[b.target])}</a>`,
                    )
                    .join(" · ")}</p>`
                : ""
            }`;
      const body = live
        ? `<p>${escapeHtml(t.invited(organization))}</p>
<ol>${t.steps.map((step) => `<li>${escapeHtml(step)}</li>`).join("")}</ol>
${downloads}
<p>${escapeHtml(t.pin)}: <strong class="pin" aria-label="${escapeHtml(t.pin)}">${pin.slice(0, 3)} ${pin.slice(3, 6)} ${pin.slice(6)}</strong></p>
<p>${escapeHtml(t.run)}</p><pre>sos ${escapeHtml(`${deps.publicUrl()}/s/${request.params.token}`)}</pre>
<p class="warning">${escapeHtml(t.warning)}</p>`
        : `<p>${escapeHtml(t.dead)}</p>`;
      reply
        .code(live ? 200 : 404)
        .header("content-type", "text/html; charset=utf-8")
        .header("cache-control", "no-store")
        .header("referrer-policy", "no-referrer")
        .header("content-security-policy", "default-src 'none'; style-src 'unsafe-inline'");
      return `<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(t.title)} · ${org}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#1d2430}.pin{font-size:2rem;letter-spacing:.1em}.warning{color:#8a1c1c}.download{display:inline-block;background:#1f6feb;color:#fff;padding:.6rem 1rem;border-radius:.4rem;text-decoration:none}pre{background:#f2f4f7;padding:.5rem;overflow:auto}</style>
</head><body><h1>${escapeHtml(t.title)} · ${org}</h1>${body}</body></html>`;
    },
  );
}
