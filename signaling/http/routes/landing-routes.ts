import { z } from "zod";
import { linkTokenSchema } from "../../../shared/agent-protocol.ts";
import { isLive } from "../../../shared/status.ts";
import type { Store } from "../../store/store.ts";
import type { App } from "../types.ts";

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
    run: "Oder, wenn die App schon installiert ist:",
    dead: "Dieser Link ist ungültig oder die Sitzung ist beendet. Bitten Sie Ihren Techniker um einen neuen.",
    warning:
      "Fahren Sie nur fort, wenn Sie um Hilfe gebeten haben. Erlauben Sie niemals Zugriff für Unbekannte, die Sie unaufgefordert kontaktieren.",
  },
} as const;

/** The end user's landing page behind a session link: what to do, and the PIN. */
export function landingRoutes(
  app: App,
  deps: { store: Store; organizationName: () => string; publicUrl: () => string },
): void {
  app.get(
    "/s/:token",
    { schema: { hide: true, params: z.object({ token: z.string().max(128) }) } },
    async (request, reply) => {
      const lang = /^de\b/i.test(request.headers["accept-language"] ?? "") ? "de" : "en";
      const t = TEXT[lang];
      const token = linkTokenSchema.safeParse(request.params.token);
      const session = token.success ? deps.store.getSessionByLinkToken(token.data) : undefined;
      const live = session !== undefined && isLive(session.status) && session.pin !== null;
      const org = escapeHtml(deps.organizationName());
      const pin = live ? (session.pin ?? "") : "";
      const body = live
        ? `<p>${escapeHtml(t.invited(deps.organizationName()))}</p>
<ol>${t.steps.map((step) => `<li>${escapeHtml(step)}</li>`).join("")}</ol>
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
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#1d2430}.pin{font-size:2rem;letter-spacing:.1em}.warning{color:#8a1c1c}pre{background:#f2f4f7;padding:.5rem;overflow:auto}</style>
</head><body><h1>${escapeHtml(t.title)} · ${org}</h1>${body}</body></html>`;
    },
  );
}
