/**
 * What the agent tells a technician's console over the control channel is bounded like everything
 * else that crosses the network (shared/control.ts): the console refuses a `state` with more
 * monitors or longer names than any real desktop has, and the agent never sends one.
 */
import t from "tap";
import { monitorsForState } from "../../agent/session/monitor-state.ts";
import { agentControlSchema, MAX_MONITORS } from "../../shared/control.ts";
import { MAX_DEVICE_FIELD_LENGTH } from "../../shared/limits.ts";

const monitor = (index: number, name = `screen-${index}`) => ({
  index,
  name,
  x: index * 1920,
  y: 0,
  width: 1920,
  height: 1080,
  primary: index === 0,
});

const state = (monitors: ReturnType<typeof monitorsForState>) => ({
  type: "state",
  access: "control",
  monitors,
  monitor: 0,
});

t.test("a state naming too many monitors, or a monitor with an overlong name, is refused", async (t) => {
  const many = Array.from({ length: MAX_MONITORS + 1 }, (_, i) => {
    const { x: _x, y: _y, ...info } = monitor(i);
    return info;
  });
  t.notOk(agentControlSchema.safeParse(state(many)).success, `${MAX_MONITORS + 1} monitors`);
  t.ok(agentControlSchema.safeParse(state(many.slice(0, MAX_MONITORS))).success, `${MAX_MONITORS} monitors`);
  const long = [
    { index: 0, name: "x".repeat(MAX_DEVICE_FIELD_LENGTH + 1), width: 1, height: 1, primary: true },
  ];
  t.notOk(agentControlSchema.safeParse(state(long)).success, "an overlong name");
  t.notOk(
    agentControlSchema.safeParse({ ...state(many.slice(0, 1)), monitor: 10_000 }).success,
    "a shown monitor past the limit",
  );
});

t.test("the agent's state fits the schema whatever the system reports", async (t) => {
  const reported = Array.from({ length: MAX_MONITORS + 5 }, (_, i) =>
    monitor(i, i === 1 ? `\u202e${"n".repeat(5_000)}` : `screen-${i}`),
  );
  const monitors = monitorsForState(reported);
  t.equal(monitors.length, MAX_MONITORS, "the first MAX_MONITORS");
  t.equal(monitors[1]?.name.length, MAX_DEVICE_FIELD_LENGTH, "a long name cut");
  t.ok(agentControlSchema.safeParse(state(monitors)).success, "and the console takes it");
});
