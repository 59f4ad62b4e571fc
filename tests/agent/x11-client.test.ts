import t from "tap";
import { x11Desktop } from "../../agent/x11-client.ts";

t.test("the X11 extras (MIT-SHM, DAMAGE, XFixes) are used only on an X11 desktop", async (t) => {
  t.equal(x11Desktop({ DISPLAY: ":0" }, "linux"), true, "an X11 session");
  t.equal(x11Desktop({ DISPLAY: ":0", XDG_SESSION_TYPE: "x11" }, "linux"), true);
  t.equal(
    x11Desktop({ DISPLAY: ":0", XDG_SESSION_TYPE: "wayland" }, "linux"),
    false,
    "a Wayland session: DISPLAY is XWayland, whose root window is not the desktop",
  );
  t.equal(x11Desktop({ DISPLAY: ":0", WAYLAND_DISPLAY: "wayland-0" }, "linux"), false);
  t.equal(x11Desktop({}, "linux"), false, "no DISPLAY");
  t.equal(x11Desktop({ DISPLAY: ":0" }, "darwin"), false, "not Linux");
});
