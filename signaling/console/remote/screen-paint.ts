import type { ScreenLink, ScreenRect } from "./screen-link.ts";

/**
 * Paints the `screen` link's canvas model on the view's overlay canvas (the screen's size, over the
 * `<video>` in the same CSS box): only the rectangles a record changed, with putImageData. Each
 * presented video frame is handed to the link (requestVideoFrameCallback: its RTP timestamp, when
 * the browser tells it) so tiles handed back to the video are cleared once the video caught up.
 *
 * Events on the canvas: `screenapplied` after each applied record (detail: capturedAt,
 * rtpTimestamp, bytes, copies; the benches count pictures with it, the tests copies), and
 * `screenpainted` after every paint (the recording's compositor redraws on it).
 */

export type ScreenAppliedDetail = {
  readonly capturedAt: number;
  readonly rtpTimestamp: number;
  readonly bytes: number;
  /** How many copies (scrolled rectangles) the record carried. */
  readonly copies: number;
};

export function paintScreen(
  link: ScreenLink,
  canvas: HTMLCanvasElement,
  video: HTMLVideoElement,
): () => void {
  const context = canvas.getContext("2d");
  if (context === null) return () => undefined;
  let image: ImageData | null = null;
  let stopped = false;

  const paint = (dirty: readonly ScreenRect[]): void => {
    const { model } = link;
    if (model.width === 0 || model.height === 0) return;
    const resized = canvas.width !== model.width || canvas.height !== model.height;
    if (resized) {
      // Setting the size clears the canvas: everything is painted again.
      canvas.width = model.width;
      canvas.height = model.height;
    }
    if (image === null || image.data !== model.rgba) {
      image = new ImageData(model.rgba, model.width, model.height);
    }
    const rects = resized ? [{ x: 0, y: 0, w: model.width, h: model.height }] : dirty;
    for (const rect of rects) context.putImageData(image, 0, 0, rect.x, rect.y, rect.w, rect.h);
    canvas.dispatchEvent(new Event("screenpainted"));
  };

  const stopListening = link.listen((event) => {
    if (event.kind === "hidden") {
      paint(event.dirty);
      return;
    }
    paint(event.dirty);
    const { record } = event;
    const detail: ScreenAppliedDetail = {
      capturedAt: record.capturedAt,
      rtpTimestamp: record.rtpTimestamp,
      bytes: event.bytes,
      copies: record.copies.length,
    };
    canvas.dispatchEvent(new CustomEvent("screenapplied", { detail }));
  });
  // A canvas mounted after records came (the view rendered again): the whole model at once.
  paint([{ x: 0, y: 0, w: link.model.width, h: link.model.height }]);

  let handle = 0;
  const onFrame = (now: number, frame: VideoFrameCallbackMetadata): void => {
    if (stopped) return;
    link.presented({ rtpTimestamp: frame.rtpTimestamp, presentedAt: frame.presentationTime ?? now });
    handle = video.requestVideoFrameCallback(onFrame);
  };
  handle = video.requestVideoFrameCallback(onFrame);

  return () => {
    stopped = true;
    video.cancelVideoFrameCallback(handle);
    stopListening();
  };
}
