import { useI18n } from "../lib/i18n.ts";
import type { Quality } from "./quality.ts";

export function QualityLine(props: { quality: Quality | null }) {
  const { t } = useI18n();
  const q = props.quality;
  const parts: string[] = [];
  if (q !== null && q.framesDecoded > 0) {
    if (q.fps !== null) parts.push(t("remote.quality.fps", { value: Math.round(q.fps) }));
    if (q.kbps !== null) parts.push(t("remote.quality.bitrate", { value: q.kbps }));
    if (q.screenKbps !== null) parts.push(t("remote.quality.screen", { value: q.screenKbps }));
    if (q.rttMs !== null) parts.push(t("remote.quality.rtt", { value: q.rttMs }));
    if (q.codec !== null) parts.push(q.codec);
    if (q.width !== null && q.height !== null) {
      parts.push(t("remote.quality.size", { width: q.width, height: q.height }));
    }
  }
  // Said as soon as it is known, with or without a picture: a slow picture may be a relayed one.
  if (parts.length === 0) parts.push(t("remote.quality.waiting"));
  if (q !== null && q.path !== null) parts.push(t(`remote.path.${q.path}`));
  return (
    <footer class="quality">
      <output aria-label={t("remote.quality")}>{parts.join(" · ")}</output>
    </footer>
  );
}
