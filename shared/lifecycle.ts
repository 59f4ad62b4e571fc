import { SosError } from "./errors.ts";

/**
 * A lifecycle as data, the pattern of `status.ts` for the clients' connections: the states are an
 * `as const` array with a derived union, one table lists where each state may go, and one `set()`
 * checks every move against the table and tells one listener (which logs or emits). A move the
 * table does not list is a bug in the caller, not a condition to handle: it throws.
 */

/** For each state, the states it may move to. A state that lists nothing is terminal. */
export type Transitions<S extends string> = Readonly<Record<S, readonly S[]>>;

export type Lifecycle<S extends string> = {
  readonly state: S;
  /** Moves to `to`, or throws when the table does not allow it. */
  set(to: S): void;
  /** Whether the table allows moving to `to` now. */
  can(to: S): boolean;
};

export function createLifecycle<S extends string>(options: {
  /** Names the machine in the error of a refused move. */
  readonly name: string;
  readonly initial: S;
  readonly transitions: Transitions<S>;
  readonly changed?: (to: S, from: S) => void;
}): Lifecycle<S> {
  const { name, transitions, changed } = options;
  let state = options.initial;
  return {
    get state() {
      return state;
    },
    can(to) {
      return transitions[state].includes(to);
    },
    set(to) {
      const from = state;
      if (!transitions[from].includes(to)) {
        throw new SosError("INTERNAL", `${name}: no transition from ${from} to ${to}`);
      }
      state = to;
      changed?.(to, from);
    },
  };
}
