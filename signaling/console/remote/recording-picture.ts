/**
 * What the recorder records: what the technician sees, not the bare video track. With the
 * `screen` channel the video keeps lossless tiles frozen (docs/screen-copy-path.md); the text
 * there is on the overlay canvas. So a compositing canvas of the screen's size draws the video,
 * then the overlay over it, on every presented video frame and every overlay paint (plus once a
 * second, so a still screen still advances the recording), and its captureStream() is recorded.
 *
 * The picture ends (its track stops, so the MediaRecorder stops) when the view's stream does (a
 * new peer after a reconnect), as recording the video track itself did.
 */

export type RecordedPicture = {
  readonly stream: MediaStream;
  /** Stops drawing and ends the stream's track; safe to call twice. */
  close(): void;
};

/** Makes the picture when the recording begins (after the end user's agent confirmed it). */
export type PictureSource = () => RecordedPicture;

const HEARTBEAT_MS = 1000;

export function composePicture(
  source: MediaStream,
  video: HTMLVideoElement,
  overlay: HTMLCanvasElement | null,
): RecordedPicture {
  const canvas = document.createElement("canvas");
  const context = canvas.getContext("2d");
  const stream = canvas.captureStream();
  let closed = false;
  let handle = 0;

  const close = (): void => {
    if (closed) return;
    closed = true;
    video.cancelVideoFrameCallback(handle);
    clearInterval(heartbeat);
    overlay?.removeEventListener("screenpainted", draw);
    for (const track of stream.getTracks()) track.stop();
  };

  function draw(): void {
    if (closed || context === null) return;
    if (source.getVideoTracks().every((track) => track.readyState === "ended")) {
      close();
      return;
    }
    const width = video.videoWidth;
    const height = video.videoHeight;
    if (width === 0 || height === 0) return;
    if (canvas.width !== width || canvas.height !== height) {
      canvas.width = width;
      canvas.height = height;
    }
    context.drawImage(video, 0, 0, width, height);
    if (overlay !== null && overlay.width > 0 && overlay.height > 0) {
      context.drawImage(overlay, 0, 0, width, height);
    }
  }

  const onFrame = (): void => {
    draw();
    if (!closed) handle = video.requestVideoFrameCallback(onFrame);
  };
  handle = video.requestVideoFrameCallback(onFrame);
  overlay?.addEventListener("screenpainted", draw);
  const heartbeat = setInterval(draw, HEARTBEAT_MS);
  draw();
  return { stream, close };
}
