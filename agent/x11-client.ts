/**
 * A connection to the X server named by DISPLAY through the `x11` package (a pure JavaScript X11
 * client), for what nut-js and node-screenshots do not offer: MIT-SHM capture
 * (media/x11-capture.ts) and the cursor's image (input/x11-cursor-shape.ts).
 */
import x11, { type Display, type XClient } from "x11";

/** Connects to `$DISPLAY`; rejects when it is unset or the server cannot be reached. */
export function connectDisplay(): Promise<Display> {
  return new Promise((resolve, reject) => {
    const display = process.env.DISPLAY;
    if (process.platform !== "linux" || !display) {
      reject(new Error("no X display"));
      return;
    }
    const client: XClient = x11.createClient({ display }, (error, connected) =>
      error ? reject(error) : resolve(connected),
    );
    client.on("error", reject);
  });
}
