/**
 * The technician sees the end user's cursor as it looks: the agent sends its image (XFixes) when
 * the control channel opens and again whenever the displayed cursor changes; a pointer a program
 * hid (a blank cursor) is reported not visible until it shows again.
 */
import t from "tap";
import x11, { type Display, type XClient } from "x11";
import type { AgentControl, CursorShape } from "../../shared/control.ts";
import { startXvfb } from "../helpers/xvfb.ts";
import { agentAsked, grantedTechnician, openDesk } from "./e2e-support.ts";

const xvfb = await startXvfb({ width: 1280, height: 720 });
t.teardown(() => xvfb.stop());

const isShape = (message: { type: string }): message is CursorShape => message.type === "cursorShape";

function opaquePixels(shape: CursorShape): number {
  const rgba = Buffer.from(shape.rgba, "base64");
  let count = 0;
  for (let i = 3; i < rgba.length; i += 4) if (rgba[i] === 255) count += 1;
  return count;
}

/** The core requests used here to make a blank cursor, which agent/types/x11.d.ts leaves out. */
type CursorRequests = XClient & {
  CreatePixmap(id: number, drawable: number, depth: number, width: number, height: number): void;
  CreateGC(id: number, drawable: number, values: { foreground: number }): void;
  PolyFillRectangle(drawable: number, gc: number, rectangles: number[]): void;
  CreateCursor(
    id: number,
    source: number,
    mask: number,
    fore: { R: number; G: number; B: number },
    back: { R: number; G: number; B: number },
    x: number,
    y: number,
  ): void;
  ChangeWindowAttributes(window: number, values: { cursor: number }): void;
};

/**
 * Hides the pointer as X11 programs do: the root window's cursor becomes a blank one (a mask
 * with no pixel set). `show` gives the root its default cursor back.
 */
async function blankRootCursor(display: string): Promise<{ show(): void; close(): void }> {
  const connected = await new Promise<Display>((resolve, reject) => {
    x11.createClient({ display }, (error, value) => (error ? reject(error) : resolve(value)));
  });
  const client = connected.client as CursorRequests;
  const root = connected.screen[0]?.root;
  if (root === undefined) throw new Error("no root window");
  const [pixmap, gc, cursor] = [client.AllocID(), client.AllocID(), client.AllocID()];
  client.CreatePixmap(pixmap, root, 1, 8, 8);
  client.CreateGC(gc, pixmap, { foreground: 0 });
  client.PolyFillRectangle(pixmap, gc, [0, 0, 8, 8]);
  const black = { R: 0, G: 0, B: 0 };
  client.CreateCursor(cursor, pixmap, pixmap, black, black, 0, 0);
  client.ChangeWindowAttributes(root, { cursor });
  return {
    show: () => client.ChangeWindowAttributes(root, { cursor: 0 }),
    close: () => client.terminate(),
  };
}

const isCursor = (message: AgentControl): message is Extract<AgentControl, { type: "cursor" }> =>
  message.type === "cursor";

t.test("the cursor's image reaches the technician, and its changes follow", async (t) => {
  const desk = await openDesk(t);
  const agent = await agentAsked(t, xvfb, desk);
  const { technician } = await grantedTechnician(t, desk, agent, "v");
  await technician.channelOpen();

  // Xvfb's root window shows the X server's default cursor (a black and white X).
  const first = await technician.nextControl(isShape);
  if (!isShape(first)) throw new Error("not a cursor shape");
  t.equal(Buffer.from(first.rgba, "base64").length, first.width * first.height * 4, "RGBA rows");
  t.ok(opaquePixels(first) > 10, `the image has a visible shape (${opaquePixels(first)} opaque pixels)`);
  t.ok(first.hotX < first.width && first.hotY < first.height, "the hotspot is inside the image");

  // xwininfo grabs the pointer with a crosshair cursor until a click: the displayed cursor changes.
  const seen = technician.controls.length;
  const picker = xvfb.client("xwininfo", []);
  const crosshair = await technician.nextControl(
    (message) => isShape(message) && message.rgba !== first.rgba,
    10_000,
    seen,
  );
  if (!isShape(crosshair)) throw new Error("not a cursor shape");
  t.ok(opaquePixels(crosshair) > 10, "a new image came when the cursor changed: the crosshair");
  t.ok(crosshair.hotX < crosshair.width && crosshair.hotY < crosshair.height, "its hotspot is inside it");

  // The grab ends: the first cursor is back, and sent again.
  const after = technician.controls.length;
  picker.kill("SIGKILL");
  const back = await technician.nextControl(
    (message) => isShape(message) && message.rgba === first.rgba,
    10_000,
    after,
  );
  t.match(back, { width: first.width, height: first.height, hotX: first.hotX, hotY: first.hotY });

  // A program hides the pointer with a blank cursor: the console is told it is not visible (and
  // gets no blank image), then visible again with its look when the cursor shows.
  await technician.nextControl((message) => isCursor(message) && message.visible);
  const beforeHiding = technician.controls.length;
  const blank = await blankRootCursor(xvfb.display);
  t.teardown(() => blank.close());
  await technician.nextControl((message) => isCursor(message) && !message.visible, 10_000, beforeHiding);
  t.pass("a hidden pointer is reported not visible");
  const hidden = technician.controls.length;
  blank.show();
  await technician.nextControl((message) => isCursor(message) && message.visible, 10_000, hidden);
  t.pass("shown again: visible");
  const shapes = technician.controls.slice(beforeHiding).filter(isShape);
  t.ok(
    shapes.every((shape) => opaquePixels(shape) > 0),
    "no blank image was sent",
  );

  agent.type("q");
  t.match(await agent.exited, { code: 0 });
});
