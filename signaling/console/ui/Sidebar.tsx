import type { MeResponse } from "../../../shared/api.ts";
import { HOME_CHANNEL_ID } from "../../../shared/model.ts";
import { useI18n } from "../lib/i18n.ts";
import { ADMIN_SECTIONS, type AdminSection, type Route, routeHref } from "../lib/router.ts";
import { useStore } from "../lib/store.ts";
import { signOut } from "../state/auth.ts";
import { channels, showNotice } from "../state/stores.ts";
import { channelName } from "./channel-name.ts";
import { Icon } from "./Icon.tsx";
import { LanguageSwitch } from "./LanguageSwitch.tsx";

const SECTION_LABEL = {
  technicians: "nav.technicians",
  channels: "nav.channelSettings",
  audit: "nav.audit",
  builds: "nav.builds",
} as const satisfies Record<AdminSection, string>;

export function Sidebar(props: { me: MeResponse; route: Route }) {
  const { t } = useI18n();
  const list = useStore(channels);
  const shown = list.length > 0 ? list : [{ id: HOME_CHANNEL_ID, kind: "home" as const, name: "Home" }];
  const current = (href: string): "page" | undefined =>
    routeHref(props.route) === href ? "page" : undefined;
  return (
    <nav class="sidebar" aria-label={t("nav.main")}>
      <div class="brand">
        <strong>{t("app.title")}</strong>
        <span>{props.me.organization.name}</span>
      </div>
      <h2>{t("nav.channels")}</h2>
      <ul>
        {shown.map((channel) => {
          const href = routeHref({ page: "desk", channelId: channel.id });
          return (
            <li key={channel.id}>
              <a href={href} aria-current={current(href)}>
                {channelName(channel, t)}
              </a>
            </li>
          );
        })}
      </ul>
      {props.me.technician.role === "admin" && (
        <>
          <h2>{t("nav.admin")}</h2>
          <ul>
            {ADMIN_SECTIONS.map((section) => {
              const href = routeHref({ page: "admin", section });
              return (
                <li key={section}>
                  <a href={href} aria-current={current(href)}>
                    {t(SECTION_LABEL[section])}
                  </a>
                </li>
              );
            })}
          </ul>
        </>
      )}
      <div class="account">
        <p>{t("signedInAs", { name: props.me.technician.name })}</p>
        <LanguageSwitch />
        <button
          type="button"
          onClick={() => signOut().catch((error: unknown) => showNotice("error", String(error)))}
        >
          <Icon name="signout" />
          {t("signOut")}
        </button>
      </div>
    </nav>
  );
}
