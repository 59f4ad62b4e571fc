/**
 * What `npm run bench:relay` (scripts/bench-relay.ts) and its technician process
 * (scripts/bench-relay-technician.ts, inside the `tech` network namespace) say to each other: one
 * JSON object per line, commands on the technician's stdin, reports on its stdout. Both ends decode
 * with these schemas (shared/decode.ts); nothing else goes on that stdout.
 */
import { z } from "zod";

export const benchCommandSchema = z.discriminatedUnion("cmd", [
  /**
   * Key-to-picture: `samples` keys typed into the toggling window at (x, y) (0..1 of the screen);
   * each flips it between white and black, timed until a decoded frame shows the flip there.
   */
  z.object({
    cmd: z.literal("latency"),
    samples: z.number().int().min(1).max(1_000),
    x: z.number().min(0).max(1),
    y: z.number().min(0).max(1),
  }),
  /** Counts whole frames and RTP bytes for `ms` with decoding off (as bench-agent does). */
  z.object({ cmd: z.literal("measure"), ms: z.number().int().min(100).max(600_000) }),
  z.object({ cmd: z.literal("close") }),
]);
export type BenchCommand = z.infer<typeof benchCommandSchema>;

const candidateTypeSchema = z.string().max(16);

export const benchReportSchema = z.discriminatedUnion("event", [
  /** The session exists; the agent joins with this PIN. */
  z.object({ event: z.literal("pin"), pin: z.string().min(1).max(16) }),
  /** The first frame is decoded and the control channel is open; the ICE pair in use. */
  z.object({
    event: z.literal("connected"),
    local: candidateTypeSchema,
    remote: candidateTypeSchema,
    firstFrameMs: z.number(),
  }),
  z.object({ event: z.literal("latency"), samplesMs: z.array(z.number()), missed: z.number().int() }),
  z.object({
    event: z.literal("measured"),
    seconds: z.number(),
    frames: z.number().int(),
    /** RTP payload plus 12 bytes of header per packet. */
    bytes: z.number().int(),
  }),
  z.object({ event: z.literal("failed"), message: z.string() }),
]);
export type BenchReport = z.infer<typeof benchReportSchema>;

/** The gateway's first admin (from SOS_ADMIN_*), who runs the benchmark's sessions as technician. */
export const BENCH_ADMIN = {
  email: "admin@bench.test",
  password: "bench-admin-password-1",
  name: "Bench Admin",
} as const;
