import type { KeyboardMode, MOUSE_BUTTONS, TechnicianControl } from "../../../shared/control.ts";
import { pictureBox, toUnit, type UnitPoint } from "./geometry.ts";
import { composing, keyMessage } from "./keys.ts";

type MouseButton = (typeof MOUSE_BUTTONS)[number];
const BUTTON_BY_INDEX: Readonly<Record<number, MouseButton>> = { 0: "left", 1: "middle", 2: "right" };
const WHEEL_LIMIT = 10_000;
const LINE_PIXELS = 16;

/**
 * Captures mouse and keyboard over the remote picture and sends them as control messages.
 * Pointer moves are coalesced to one per animation frame; keys and buttons still held when the
 * capture ends (blur, disconnect, view-only) are released on the remote side. Keys go as the
 * keyboard mode (read at each key) says. The keyboard focus sits in a transparent text field over
 * the picture, so that input methods (IME) work: their composed text is sent as text.
 * Returns the function that ends the capture.
 */
export function captureInput(
  stage: HTMLElement,
  video: HTMLVideoElement,
  send: (message: TechnicianControl) => void,
  keyboardMode: () => KeyboardMode,
): () => void {
  const sink = document.createElement("textarea");
  sink.className = "key-sink";
  sink.setAttribute("aria-hidden", "true");
  sink.tabIndex = -1;
  sink.autocomplete = "off";
  sink.spellcheck = false;
  stage.append(sink);
  sink.focus({ preventScroll: true });
  const heldKeys = new Set<string>();
  const heldButtons = new Set<MouseButton>();
  let pending: UnitPoint | null = null;
  let frame = 0;

  const pointAt = (event: MouseEvent): UnitPoint | null =>
    toUnit(
      pictureBox(video.getBoundingClientRect(), video.videoWidth, video.videoHeight),
      event.clientX,
      event.clientY,
    );

  const flush = (): void => {
    cancelAnimationFrame(frame);
    frame = 0;
    if (pending !== null) send({ type: "pointer", x: pending.x, y: pending.y });
    pending = null;
  };

  const releaseAll = (): void => {
    flush();
    for (const button of heldButtons) send({ type: "button", button, down: false });
    for (const code of heldKeys) send({ type: "key", code, down: false });
    heldButtons.clear();
    heldKeys.clear();
  };

  const onMove = (event: PointerEvent): void => {
    const point = pointAt(event);
    if (point === null) return;
    pending = point;
    if (frame === 0) frame = requestAnimationFrame(flush);
  };

  const onButton = (event: PointerEvent): void => {
    const button = BUTTON_BY_INDEX[event.button];
    if (button === undefined) return;
    const down = event.type === "pointerdown";
    const point = pointAt(event);
    if (down) {
      if (point === null) return;
      event.preventDefault();
      sink.focus({ preventScroll: true });
      stage.setPointerCapture(event.pointerId);
      heldButtons.add(button);
    } else if (!heldButtons.delete(button)) {
      return;
    }
    pending = point ?? pending;
    flush();
    send({ type: "button", button, down });
  };

  const onWheel = (event: WheelEvent): void => {
    if (pointAt(event) === null) return;
    event.preventDefault();
    const unit = event.deltaMode === 1 ? LINE_PIXELS : event.deltaMode === 2 ? stage.clientHeight : 1;
    const clamp = (value: number): number => Math.max(-WHEEL_LIMIT, Math.min(WHEEL_LIMIT, value * unit));
    flush();
    send({ type: "wheel", dx: clamp(event.deltaX), dy: clamp(event.deltaY) });
  };

  const onKey = (event: KeyboardEvent): void => {
    // An input method's keys are its own; what it composes comes with compositionend.
    if (composing(event)) return;
    const down = event.type === "keydown";
    const message = keyMessage(event, down, keyboardMode());
    event.preventDefault();
    if (message === null) return;
    if (message.type === "key") {
      if (down) heldKeys.add(message.code);
      else if (!heldKeys.delete(message.code)) return;
    }
    send(message);
  };

  const onContextMenu = (event: Event): void => event.preventDefault();

  const sendText = (text: string): void => {
    sink.value = "";
    if (text !== "") send({ type: "text", text: text.slice(0, 1_000) });
  };
  const onCompositionEnd = (event: CompositionEvent): void => sendText(event.data);
  // Text inserted without a key the page saw: on-screen keyboards, emoji pickers, dictation.
  const onBeforeInput = (event: InputEvent): void => {
    if (event.isComposing || event.inputType === "insertCompositionText") return;
    event.preventDefault();
    if (event.inputType === "insertText" && event.data !== null) sendText(event.data);
  };
  // Focus moving into the stage (to the text field) is no blur; leaving it releases the keys.
  const onFocusOut = (event: FocusEvent): void => {
    if (event.relatedTarget instanceof Node && stage.contains(event.relatedTarget)) return;
    releaseAll();
  };
  const onStageFocus = (): void => sink.focus({ preventScroll: true });

  stage.addEventListener("pointermove", onMove);
  stage.addEventListener("pointerdown", onButton);
  stage.addEventListener("pointerup", onButton);
  stage.addEventListener("wheel", onWheel, { passive: false });
  stage.addEventListener("keydown", onKey);
  stage.addEventListener("keyup", onKey);
  stage.addEventListener("contextmenu", onContextMenu);
  stage.addEventListener("focus", onStageFocus);
  stage.addEventListener("focusout", onFocusOut);
  sink.addEventListener("compositionend", onCompositionEnd);
  sink.addEventListener("beforeinput", onBeforeInput);
  window.addEventListener("blur", releaseAll);

  return () => {
    stage.removeEventListener("pointermove", onMove);
    stage.removeEventListener("pointerdown", onButton);
    stage.removeEventListener("pointerup", onButton);
    stage.removeEventListener("wheel", onWheel);
    stage.removeEventListener("keydown", onKey);
    stage.removeEventListener("keyup", onKey);
    stage.removeEventListener("contextmenu", onContextMenu);
    stage.removeEventListener("focus", onStageFocus);
    stage.removeEventListener("focusout", onFocusOut);
    sink.removeEventListener("compositionend", onCompositionEnd);
    sink.removeEventListener("beforeinput", onBeforeInput);
    window.removeEventListener("blur", releaseAll);
    releaseAll();
    sink.remove();
  };
}
