/**
 * What the capture worker's loop does, as data. idle: nothing (no capture, no CPU). priming: one
 * keyframe is wanted even while not running. running: capture at the polling rate. stopping: the
 * loop ends (terminal).
 */
import { createLifecycle, type Transitions } from "../../shared/lifecycle.ts";

export const CAPTURE_MODES = ["idle", "priming", "running", "stopping"] as const;
export type CaptureMode = (typeof CAPTURE_MODES)[number];

export const CAPTURE_MODE_TRANSITIONS: Transitions<CaptureMode> = {
  idle: ["priming", "running", "stopping"],
  priming: ["idle", "running", "stopping"],
  running: ["idle", "stopping"],
  stopping: [],
};

export type CaptureModeMachine = {
  readonly state: CaptureMode;
  /** Moves to `to` unless already there; nothing moves a stopping worker. */
  set(to: CaptureMode): void;
};

export function createCaptureMode(): CaptureModeMachine {
  const life = createLifecycle<CaptureMode>({
    name: "capture worker",
    initial: "idle",
    transitions: CAPTURE_MODE_TRANSITIONS,
  });
  return {
    get state() {
      return life.state;
    },
    set(to) {
      if (life.state !== to && life.state !== "stopping") life.set(to);
    },
  };
}
