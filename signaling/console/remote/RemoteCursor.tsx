import type { RefObject } from "preact";
import type { Store } from "../lib/store.ts";
import { useStore } from "../lib/store.ts";
import { fromUnit, pictureBox } from "./geometry.ts";
import type { RemoteCursor as Cursor } from "./use-remote.ts";

/** The agent's pointer, drawn over the picture where the agent reports it. */
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
  return (
    <svg
      class="remote-cursor"
      viewBox="0 0 16 24"
      aria-hidden="true"
      style={{
        left: `${point.left - frame.left + stage.scrollLeft}px`,
        top: `${point.top - frame.top + stage.scrollTop}px`,
      }}
    >
      <path d="M1 1l0 19 5-5 4 8 3-1.5-4-8 7 0z" />
    </svg>
  );
}
