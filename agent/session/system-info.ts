/**
 * This computer's facts for a technician the end user allowed (shared/system-info.ts): read from
 * Node's `os` module, the file systems of `/` (or the system drive) and the home folder, the
 * screens the agent can capture and, on Linux, /etc/os-release for the system's name. Every
 * string is made plain (control characters as visible escapes) and cut to the schema's length.
 */
import { readFileSync, statfsSync } from "node:fs";
import {
  arch,
  cpus,
  freemem,
  homedir,
  hostname,
  networkInterfaces,
  release,
  totalmem,
  type,
  uptime,
  userInfo,
} from "node:os";
import { parse } from "node:path";
import { MAX_DEVICE_FIELD_LENGTH } from "../../shared/limits.ts";
import { inertText } from "../../shared/plain-text.ts";
import { MAX_SYSTEM_INFO_ENTRIES, type SystemInfo } from "../../shared/system-info.ts";
import { listMonitors } from "../media/capture.ts";
import { AGENT_VERSION } from "../version.ts";

const plain = (text: string) => inertText(text, MAX_DEVICE_FIELD_LENGTH).trim();

function systemName(): string {
  if (process.platform === "linux") {
    try {
      const pretty = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync("/etc/os-release", "utf8"));
      if (pretty?.[1] !== undefined && pretty[1] !== "") return pretty[1];
    } catch {
      // no os-release: the kernel's name below
    }
  }
  return type();
}

function disks(): SystemInfo["disks"] {
  const mounts = [...new Set([parse(process.cwd()).root, parse(homedir()).root, homedir()])];
  const found: SystemInfo["disks"] = [];
  const seen = new Set<string>();
  for (const mount of mounts) {
    try {
      const stats = statfsSync(mount);
      const key = `${stats.type}:${stats.blocks}:${stats.bfree}`;
      if (seen.has(key)) continue;
      seen.add(key);
      found.push({
        mount: plain(mount),
        totalBytes: stats.blocks * stats.bsize,
        freeBytes: stats.bavail * stats.bsize,
      });
    } catch {
      // not readable: left out
    }
  }
  return found;
}

function displays(): SystemInfo["displays"] {
  try {
    return listMonitors()
      .slice(0, MAX_SYSTEM_INFO_ENTRIES)
      .map(({ name, width, height, primary }) => ({ name: plain(name), width, height, primary }));
  } catch {
    return [];
  }
}

function network(): SystemInfo["network"] {
  return Object.entries(networkInterfaces())
    .slice(0, MAX_SYSTEM_INFO_ENTRIES)
    .map(([name, addresses = []]) => ({
      name: plain(name),
      mac: plain(addresses[0]?.mac ?? ""),
      addresses: addresses
        .slice(0, MAX_SYSTEM_INFO_ENTRIES)
        .map((entry) => ({ family: entry.family, address: plain(entry.address) })),
    }));
}

export function systemInfo(): SystemInfo {
  let user = "";
  try {
    user = userInfo().username;
  } catch {
    // no user database entry (containers): left empty
  }
  const processors = cpus();
  return {
    os: { platform: process.platform, name: plain(systemName()), release: plain(release()), arch: arch() },
    hostname: plain(hostname()),
    user: plain(user),
    agentVersion: AGENT_VERSION,
    uptimeSeconds: Math.max(0, Math.floor(uptime())),
    cpu: { model: plain(processors[0]?.model ?? ""), cores: processors.length },
    memory: { totalBytes: totalmem(), freeBytes: freemem() },
    disks: disks(),
    displays: displays(),
    network: network(),
  };
}
