/**
 * A polling watch's failures as the end user's terminal should hear them: `onError` once per run
 * of the same failure (by message), not on every poll; a success ends the run.
 */
export type FailureRun = {
  /** Whether the last poll failed. */
  readonly failing: boolean;
  failed(error: unknown): void;
  succeeded(): void;
};

export function failureRun(onError: (error: unknown) => void): FailureRun {
  let last: string | undefined;
  return {
    get failing() {
      return last !== undefined;
    },
    failed(error) {
      const why = error instanceof Error ? error.message : String(error);
      if (why !== last) onError(error);
      last = why;
    },
    succeeded() {
      last = undefined;
    },
  };
}
