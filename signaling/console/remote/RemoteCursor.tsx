import type { RefObject } from "preact";
import type { Store } from "../lib/store.ts";
import { useStore } from "../lib/store.ts";
import { fromUnit, pictureBox } from "./geometry.ts";
import type { RemoteCursor as Cursor } from "./use-remote.ts";

/**
 * The agent's pointer, drawn over the picture where the agent reports it: its own image, hotspot
 * on the point, where the agent sends one; an arrow otherwise.
 */
export function RemoteCursor(props: {
  cursor: Store<Cursor | null>;
  stage: RefObject<HTMLDivElement>;
  video: RefObject<HTMLVideoElement>;
}) {
  const cursor = useStore(props.cursor);
  const stage = props.stage.current;
  const video = props.video.current;
  if (cursor === null || !cursor.visible || stage === null || video === null || video.videoWidth === 0) {
    return null;
  }
  const frame = stage.getBoundingClientRect();
  const picture = pictureBox(video.getBoundingClientRect(), video.videoWidth, video.videoHeight);
  const point = fromUnit(picture, cursor);
  const left = point.left - frame.left + stage.scrollLeft;
  const top = point.top - frame.top + stage.scrollTop;
  const image = cursor.image;
  if (image !== null) {
    return (
      <img
        class="remote-cursor remote-cursor-image"
        src={image.url}
        alt=""
        width={image.width}
        height={image.height}
        style={{ left: `${left - image.hotX}px`, top: `${top - image.hotY}px` }}
      />
    );
  }
  return (
    <svg
      class="remote-cursor"
      viewBox="0 0 16 24"
      aria-hidden="true"
      style={{ left: `${left}px`, top: `${top}px` }}
    >
      <path d="M1 1l0 19 5-5 4 8 3-1.5-4-8 7 0z" />
    </svg>
  );
}
