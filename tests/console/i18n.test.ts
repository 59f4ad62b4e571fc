import t from "tap";
import { AUDIT_ACTIONS } from "../../shared/audit-actions.ts";
import { ERROR_CODES } from "../../shared/errors.ts";
import { groupPin } from "../../signaling/console/lib/format.ts";
import { languageFromPreferences, translate } from "../../signaling/console/lib/i18n.ts";
import { de } from "../../signaling/console/lib/messages.de.ts";
import { en, type MessageKey } from "../../signaling/console/lib/messages.en.ts";
import { parseRoute, routeHref } from "../../signaling/console/lib/router.ts";

t.test("the language follows the browser's preferences, English otherwise", async (t) => {
  t.equal(languageFromPreferences(["de-AT", "en"]), "de");
  t.equal(languageFromPreferences(["fr-FR", "en-GB"]), "en");
  t.equal(languageFromPreferences(["fr-FR"]), "en");
  t.equal(languageFromPreferences([]), "en");
});

t.test("German has every text with the same placeholders as English", async (t) => {
  const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
  for (const key of Object.keys(en) as MessageKey[]) {
    t.same(placeholders(de[key]), placeholders(en[key]), key);
  }
});

t.test("the seed's action names, in both languages", async (t) => {
  t.equal(translate("en", "action.startRemote"), "Start remote session");
  t.equal(translate("de", "action.startRemote"), "Fernsitzung starten");
  t.equal(translate("de", "status.Queued"), "In Warteschlange");
  t.equal(
    translate("en", "invite.hint", { count: 2 }),
    "Up to 2 more technicians can join this session (three in all).",
  );
});

t.test("a PIN reads in groups of three", async (t) => {
  t.equal(groupPin("123456789"), "123 456 789");
});

t.test("hash routes round-trip, and anything else is the Home channel", async (t) => {
  for (const hash of ["#/channel/abc", "#/remote/s_1-x", "#/admin/audit"])
    t.equal(routeHref(parseRoute(hash)), hash);
  t.same(parseRoute("#/remote/<script>"), { page: "desk", channelId: "home" });
  t.same(parseRoute(""), { page: "desk", channelId: "home" });
  t.same(parseRoute("#/admin/nope"), { page: "desk", channelId: "home" });
});

t.test("every error code of the gateway has a text of its own in both languages", async (t) => {
  for (const code of ERROR_CODES) {
    const english = translate("en", `error.${code}`);
    const german = translate("de", `error.${code}`);
    t.ok(english.length > 0 && german.length > 0, code);
    t.not(german, english, `${code} is translated`);
  }
  t.equal(translate("de", "error.FORBIDDEN"), "Das dürfen Sie nicht.");
});

t.test("every audit action the gateway writes has a label of its own in both languages", async (t) => {
  const seen = { en: new Set<string>(), de: new Set<string>() };
  for (const action of AUDIT_ACTIONS) {
    const english = translate("en", `audit.action.${action}`);
    const german = translate("de", `audit.action.${action}`);
    t.ok(english.length > 0 && german.length > 0 && english !== action, action);
    t.not(german, english, `${action} is translated`);
    seen.en.add(english);
    seen.de.add(german);
  }
  t.equal(seen.en.size, AUDIT_ACTIONS.length, "no two actions read alike in English");
  t.equal(seen.de.size, AUDIT_ACTIONS.length, "nor in German");
  t.equal(translate("en", "audit.action.retention.deleted"), "Old data deleted (data retention)");
  t.equal(translate("de", "audit.action.retention.deleted"), "Alte Daten gelöscht (Aufbewahrungsfrist)");
});
