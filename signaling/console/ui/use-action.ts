import { useCallback, useState } from "preact/hooks";
import { errorText } from "../lib/api.ts";

export type ActionRunner = {
  busy: boolean;
  error: string | null;
  info: string | null;
  /** Runs `work`; a refusal lands in `error` as the gateway worded it, success in `info`. */
  run(work: () => Promise<unknown>, done?: string): Promise<boolean>;
  /** Shows `text` as the outcome, as if an action had just succeeded with it. */
  announce(text: string): void;
  clear(): void;
};

export function useAction(): ActionRunner {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [info, setInfo] = useState<string | null>(null);
  const run = useCallback(async (work: () => Promise<unknown>, done?: string): Promise<boolean> => {
    setBusy(true);
    setError(null);
    setInfo(null);
    try {
      await work();
      if (done !== undefined) setInfo(done);
      return true;
    } catch (failure) {
      setError(errorText(failure));
      return false;
    } finally {
      setBusy(false);
    }
  }, []);
  const clear = useCallback(() => {
    setError(null);
    setInfo(null);
  }, []);
  const announce = useCallback((text: string) => {
    setError(null);
    setInfo(text);
  }, []);
  return { busy, error, info, run, announce, clear };
}
