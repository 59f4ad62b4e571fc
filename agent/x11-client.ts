/**
 * A connection to the X server named by DISPLAY through the `x11` package (a pure JavaScript X11
 * client), for what nut-js and node-screenshots do not offer: MIT-SHM capture and DAMAGE
 * (media/x11-capture.ts, media/x11-damage.ts) and the cursor's image (input/x11-cursor-shape.ts).
 */
import x11, { type Display, type Extensions, type XClient } from "x11";

/** Connecting and asking for an extension take milliseconds; a server that takes longer is not used. */
export const SETUP_TIMEOUT_MS = 2_000;

/**
 * Whether DISPLAY is an X server showing the desktop. In a Wayland session it is XWayland, whose
 * root window holds only the X11 programs (the rest is black): node-screenshots captures through
 * the desktop portal there instead.
 */
export function x11Desktop(env: NodeJS.ProcessEnv = process.env, platform = process.platform): boolean {
  if (platform !== "linux" || !env.DISPLAY) return false;
  return env.XDG_SESSION_TYPE !== "wayland" && !env.WAYLAND_DISPLAY;
}

/** Rejects after `ms` with `what` timed out, unless `promise` settles first. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} timed out`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** Connects to `$DISPLAY`; rejects when it is no X desktop, cannot be reached or does not answer. */
export async function connectDisplay(): Promise<Display> {
  const display = process.env.DISPLAY;
  if (!x11Desktop() || display === undefined) throw new Error("no X desktop");
  let client: XClient | undefined;
  const connected = new Promise<Display>((resolve, reject) => {
    client = x11.createClient({ display }, (error, connected) =>
      error ? reject(error) : resolve(connected),
    );
    client.on("error", reject);
  });
  try {
    return await within(connected, SETUP_TIMEOUT_MS, "connecting to the X server");
  } catch (error) {
    client?.terminate();
    throw error;
  }
}

/** An extension of the connected server, or undefined when it has none (or does not answer). */
export function extensionOf<K extends keyof Extensions>(
  display: Display,
  name: K,
): Promise<Extensions[K] | undefined> {
  const asked = new Promise<Extensions[K] | undefined>((resolve) =>
    display.client.require(name, (error, extension) => resolve(error ? undefined : extension)),
  );
  return within(asked, SETUP_TIMEOUT_MS, `the ${name} extension`).catch(() => undefined);
}
