import { HOME_CHANNEL_ID } from "../../../shared/model.ts";
import { createStore } from "./store.ts";

/**
 * The console's pages as hash routes, so the gateway serves one static page for all of them:
 * #/channel/<id>, #/remote/<sessionId>, #/admin/<section>.
 */
export const ADMIN_SECTIONS = ["technicians", "channels", "audit", "builds"] as const;
export type AdminSection = (typeof ADMIN_SECTIONS)[number];

export type Route =
  | { page: "desk"; channelId: string }
  | { page: "remote"; sessionId: string }
  | { page: "admin"; section: AdminSection };

const ID = /^[A-Za-z0-9_-]{1,64}$/;

export function parseRoute(hash: string): Route {
  const [page, arg] = hash.replace(/^#\/?/, "").split("/");
  if (page === "remote" && arg !== undefined && ID.test(arg)) return { page, sessionId: arg };
  if (page === "admin") {
    const section = ADMIN_SECTIONS.find((name) => name === arg);
    if (section !== undefined) return { page, section };
  }
  if (page === "channel" && arg !== undefined && ID.test(arg)) return { page: "desk", channelId: arg };
  return { page: "desk", channelId: HOME_CHANNEL_ID };
}

export function routeHref(route: Route): string {
  switch (route.page) {
    case "desk":
      return `#/channel/${route.channelId}`;
    case "remote":
      return `#/remote/${route.sessionId}`;
    case "admin":
      return `#/admin/${route.section}`;
  }
}

export const route = createStore<Route>(parseRoute(globalThis.location?.hash ?? ""));

globalThis.addEventListener?.("hashchange", () => route.set(parseRoute(location.hash)));

export function navigate(next: Route): void {
  const href = routeHref(next);
  if (location.hash !== href) location.hash = href;
  route.set(parseRoute(href));
}
