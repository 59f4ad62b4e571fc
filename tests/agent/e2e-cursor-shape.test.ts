/**
 * The technician sees the end user's cursor as it looks: the agent sends its image (XFixes) when
 * the control channel opens and again whenever the displayed cursor changes.
 */
import t from "tap";
import type { CursorShape } from "../../shared/control.ts";
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

  agent.type("q");
  t.match(await agent.exited, { code: 0 });
});
