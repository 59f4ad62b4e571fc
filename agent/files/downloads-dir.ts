/**
 * Where files sent to the end user land: --files-dir, else the desktop's download folder (the XDG
 * user dir on Linux, ~/Downloads elsewhere), never a folder the technician names.
 */
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { isAbsolute, join } from "node:path";

/** XDG_DOWNLOAD_DIR from user-dirs.dirs (`"$HOME/Downloads"`), if set there. */
function xdgDownloadDir(env: NodeJS.ProcessEnv, home: string): string | undefined {
  const config =
    env.XDG_CONFIG_HOME !== undefined && env.XDG_CONFIG_HOME !== ""
      ? env.XDG_CONFIG_HOME
      : join(home, ".config");
  let text: string;
  try {
    text = readFileSync(join(config, "user-dirs.dirs"), "utf8");
  } catch {
    return undefined;
  }
  const match = /^XDG_DOWNLOAD_DIR="([^"]*)"/m.exec(text);
  if (match?.[1] === undefined) return undefined;
  const dir = match[1].replace(/^\$HOME(?=\/|$)/, home);
  return isAbsolute(dir) && dir !== home ? dir : undefined;
}

export function downloadsDir(
  option: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  home = homedir(),
  platform: NodeJS.Platform = process.platform,
): string {
  if (option !== undefined) return option;
  const xdg = platform === "linux" ? xdgDownloadDir(env, home) : undefined;
  return xdg ?? join(home, "Downloads");
}
