import type { Channel } from "../../../shared/model.ts";
import type { Translate } from "../lib/i18n.ts";

/** Home and Private are named in the console's language; team channels by their own name. */
export function channelName(channel: Pick<Channel, "kind" | "name">, t: Translate): string {
  if (channel.kind === "home") return t("channel.home");
  if (channel.kind === "private") return t("channel.private");
  return channel.name;
}
