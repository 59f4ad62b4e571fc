import { z } from "zod";
import { MAX_DEVICE_FIELD_LENGTH } from "./limits.ts";
import { plainText } from "./plain-text.ts";

/**
 * What the end user's agent tells a technician about its computer on request (only a technician
 * the end user allowed to see the screen may ask): one schema for the agent that sends it, the
 * gateway that checks and keeps it, and the console that shows it. Strings are plain text (no
 * control or bidi characters); lists are bounded.
 */

const field = plainText(MAX_DEVICE_FIELD_LENGTH);
const bytes = z.number().int().nonnegative();
/** Most entries of each list (disks, displays, network interfaces, addresses of one interface). */
export const MAX_SYSTEM_INFO_ENTRIES = 32;
const list = <T extends z.ZodType>(item: T) => z.array(item).max(MAX_SYSTEM_INFO_ENTRIES);

export const systemInfoSchema = z.object({
  os: z.object({
    /** `linux`, `win32`, `darwin`. */
    platform: field,
    /** The system's name and version as it reports them, e.g. "Debian GNU/Linux 13 (trixie)". */
    name: field,
    /** Kernel or build version. */
    release: field,
    arch: field,
  }),
  hostname: field,
  /** The logged-in user running the SOS app. */
  user: field,
  agentVersion: field,
  uptimeSeconds: z.number().int().nonnegative(),
  cpu: z.object({ model: field, cores: z.number().int().nonnegative() }),
  memory: z.object({ totalBytes: bytes, freeBytes: bytes }),
  disks: list(z.object({ mount: field, totalBytes: bytes, freeBytes: bytes })),
  displays: list(
    z.object({
      name: field,
      width: z.number().int().nonnegative(),
      height: z.number().int().nonnegative(),
      primary: z.boolean(),
    }),
  ),
  network: list(
    z.object({
      name: field,
      mac: field,
      addresses: list(z.object({ family: z.enum(["IPv4", "IPv6"]), address: field })),
    }),
  ),
});
export type SystemInfo = z.infer<typeof systemInfoSchema>;
