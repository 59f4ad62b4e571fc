import type { CursorShape } from "../../../shared/control.ts";

/** The agent's cursor image, ready to draw: a PNG data URL and where its hotspot is. */
export type CursorImage = { url: string; width: number; height: number; hotX: number; hotY: number };

/** Turns the agent's RGBA rows into a PNG data URL (a canvas encodes it). */
export function cursorImage(shape: CursorShape): CursorImage | null {
  const canvas = document.createElement("canvas");
  canvas.width = shape.width;
  canvas.height = shape.height;
  const context = canvas.getContext("2d");
  if (context === null) return null;
  const bytes = Uint8ClampedArray.from(atob(shape.rgba), (char) => char.charCodeAt(0));
  context.putImageData(new ImageData(bytes, shape.width, shape.height), 0, 0);
  return {
    url: canvas.toDataURL("image/png"),
    width: shape.width,
    height: shape.height,
    hotX: shape.hotX,
    hotY: shape.hotY,
  };
}
