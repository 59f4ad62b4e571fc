import t from "tap";
import { technicianControlSchema } from "../../shared/control.ts";
import { decodeMessage } from "../../shared/decode.ts";
import { fromUnit, pictureBox, toUnit } from "../../signaling/console/remote/geometry.ts";
import { keyMessage, SPECIAL_KEYS } from "../../signaling/console/remote/keys.ts";

t.test("a 16:9 picture in a square box is letterboxed and centred", async (t) => {
  const box = pictureBox({ left: 0, top: 0, width: 1000, height: 1000 }, 1920, 1080);
  t.equal(box.width, 1000);
  t.equal(box.height, 562.5);
  t.equal(box.top, 218.75);
});

t.test("page points map to normalized coordinates of the picture, and back", async (t) => {
  const picture = { left: 100, top: 50, width: 800, height: 450 };
  t.same(toUnit(picture, 100, 50), { x: 0, y: 0 });
  t.same(toUnit(picture, 900, 500), { x: 1, y: 1 });
  t.same(toUnit(picture, 500, 275), { x: 0.5, y: 0.5 });
  t.equal(toUnit(picture, 50, 275), null, "the letterbox band is outside the picture");
  t.same(fromUnit(picture, { x: 0.25, y: 0.5 }), { left: 300, top: 275 });
  t.equal(toUnit({ left: 0, top: 0, width: 0, height: 0 }, 0, 0), null, "no picture yet, no point");
});

t.test(
  "keys go by physical code with the character they produced; characters without one go as text",
  async (t) => {
    t.same(keyMessage({ code: "KeyA", key: "a" }, true, "position"), {
      type: "key",
      code: "KeyA",
      down: true,
      key: "a",
      mode: "position",
    });
    t.same(keyMessage({ code: "Enter", key: "Enter" }, true, "character"), {
      type: "key",
      code: "Enter",
      down: true,
      mode: "character",
    });
    t.same(keyMessage({ code: "", key: "é" }, true, "position"), { type: "text", text: "é" });
    t.equal(keyMessage({ code: "", key: "é" }, false, "position"), null, "text has no key-up");
    t.equal(keyMessage({ code: "Unidentified", key: "Process" }, true, "position"), null);
    for (const message of [
      keyMessage({ code: "Enter", key: "Enter" }, false, "position"),
      keyMessage({ code: "", key: "ß" }, true, "character"),
      keyMessage({ code: "KeyQ", key: "@" }, true, "character"),
    ]) {
      t.ok(technicianControlSchema.safeParse(message).success, "matches the shared schema");
    }
  },
);

t.test("by character, a dead key is not sent: the composed character comes with the next key", async (t) => {
  t.equal(keyMessage({ code: "Equal", key: "Dead" }, true, "character"), null);
  t.same(keyMessage({ code: "KeyE", key: "é" }, true, "character"), {
    type: "key",
    code: "KeyE",
    down: true,
    key: "é",
    mode: "character",
  });
  t.same(
    keyMessage({ code: "Equal", key: "Dead" }, true, "position"),
    { type: "key", code: "Equal", down: true, mode: "position" },
    "by position the end user's layout gets the dead key itself",
  );
});

t.test("keys an input method is composing are left to it", async (t) => {
  t.equal(keyMessage({ code: "KeyN", key: "n", isComposing: true }, true, "character"), null);
  t.equal(keyMessage({ code: "KeyN", key: "Process" }, true, "position"), null);
});

t.test("toolbar combinations press in order and release in reverse, every key let go", async (t) => {
  t.same(
    SPECIAL_KEYS.ctrlAltDel.map((m) => (m.type === "key" ? `${m.code}${m.down ? "+" : "-"}` : m.type)),
    ["ControlLeft+", "AltLeft+", "Delete+", "Delete-", "AltLeft-", "ControlLeft-"],
  );
  for (const [name, messages] of Object.entries(SPECIAL_KEYS)) {
    const down = messages.filter((m) => m.type === "key" && m.down).length;
    const up = messages.filter((m) => m.type === "key" && !m.down).length;
    t.equal(down, up, `${name} releases what it presses`);
  }
});

t.test(
  "the key message: old ones still decode; a bad character or mode is refused with BAD_REQUEST",
  async (t) => {
    const old = decodeMessage(
      technicianControlSchema,
      JSON.stringify({ type: "key", code: "KeyA", down: true }),
    );
    t.ok(old.ok, "a key without key and mode (older consoles) decodes");
    for (const bad of [
      { type: "key", code: "KeyA", down: true, key: "ab", mode: "character" },
      { type: "key", code: "KeyA", down: true, key: "\u0007", mode: "character" },
      { type: "key", code: "KeyA", down: true, key: "", mode: "character" },
      { type: "key", code: "KeyA", down: true, key: "a", mode: "by-feel" },
    ]) {
      const decoded = decodeMessage(technicianControlSchema, JSON.stringify(bad));
      t.equal(decoded.ok ? "decoded" : decoded.error.code, "BAD_REQUEST", JSON.stringify(bad));
    }
    const astral = decodeMessage(
      technicianControlSchema,
      JSON.stringify({ type: "key", code: "KeyA", down: true, key: "😀", mode: "character" }),
    );
    t.ok(astral.ok, "one character beyond the BMP (two UTF-16 units) is one character");
  },
);
