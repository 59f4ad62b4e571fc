/**
 * Where the remote picture lies on the page, and how a page point maps to the agent's normalized
 * coordinates (0..1 from the monitor's left/top edge), for a video drawn with object-fit: contain.
 */

export type Box = {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
};
export type UnitPoint = { readonly x: number; readonly y: number };

/** The rectangle the picture fills inside the element's box: letterboxed, centred. */
export function pictureBox(element: Box, videoWidth: number, videoHeight: number): Box {
  if (videoWidth <= 0 || videoHeight <= 0 || element.width <= 0 || element.height <= 0) return element;
  // The side that limits the scale is filled exactly; the other gets the bands.
  const wide = element.width * videoHeight > element.height * videoWidth;
  const width = wide ? (element.height * videoWidth) / videoHeight : element.width;
  const height = wide ? element.height : (element.width * videoHeight) / videoWidth;
  return {
    left: element.left + (element.width - width) / 2,
    top: element.top + (element.height - height) / 2,
    width,
    height,
  };
}

const clampUnit = (value: number): number => Math.min(1, Math.max(0, value));

/** The normalized point under (clientX, clientY), or null when it lies outside the picture. */
export function toUnit(picture: Box, clientX: number, clientY: number): UnitPoint | null {
  if (picture.width <= 0 || picture.height <= 0) return null;
  const x = (clientX - picture.left) / picture.width;
  const y = (clientY - picture.top) / picture.height;
  if (!Number.isFinite(x) || !Number.isFinite(y) || x < 0 || x > 1 || y < 0 || y > 1) return null;
  return { x: clampUnit(x), y: clampUnit(y) };
}

/** The page point of a normalized point, for drawing the remote cursor. */
export function fromUnit(picture: Box, point: UnitPoint): { left: number; top: number } {
  return {
    left: picture.left + clampUnit(point.x) * picture.width,
    top: picture.top + clampUnit(point.y) * picture.height,
  };
}
