import type { z } from "zod";
import { flattenIssues, SosError } from "./errors.ts";
import { MAX_JSON_DEPTH } from "./limits.ts";

export type Decoded<T> = { ok: true; value: T } | { ok: false; error: SosError };

function depthOf(value: unknown): number {
  let max = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const top = stack.pop();
    if (top === undefined) break;
    const [node, depth] = top;
    if (node === null || typeof node !== "object") continue;
    if (depth > max) max = depth;
    if (max > MAX_JSON_DEPTH) return max;
    for (const child of Object.values(node)) stack.push([child, depth + 1]);
  }
  return max;
}

/**
 * The one way any part turns a received text into a message: JSON, bounded depth, then the schema.
 * Never throws; a failure carries BAD_REQUEST with what was wrong.
 */
export function decodeMessage<S extends z.ZodType>(schema: S, text: string): Decoded<z.infer<S>> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, error: SosError.badRequest("The message is not valid JSON.") };
  }
  if (depthOf(raw) > MAX_JSON_DEPTH) {
    return { ok: false, error: SosError.badRequest(`The message is nested deeper than ${MAX_JSON_DEPTH}.`) };
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    return {
      ok: false,
      error: SosError.badRequest(
        "The message does not match the protocol.",
        flattenIssues(parsed.error.issues),
      ),
    };
  }
  return { ok: true, value: parsed.data };
}
