import { type Channel, HOME_CHANNEL_ID } from "../../../shared/model.ts";
import type { Translate } from "../lib/i18n.ts";

/** Home and Private are named in the console's language; team channels by their own name. */
export function channelName(channel: Pick<Channel, "id" | "kind" | "name">, t: Translate): string {
  // Home is known by its id too: the gateway lists it with kind "private".
  if (channel.kind === "home" || channel.id === HOME_CHANNEL_ID) return t("channel.home");
  if (channel.kind === "private") return t("channel.private");
  return channel.name;
}
