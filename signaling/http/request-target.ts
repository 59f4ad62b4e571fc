/**
 * The path a request is routed by, in one place for every guard (the setup guard, the rate limit's
 * allow list, the not-found handler). A guard that reads `request.url` as it came sees
 * `http://x/api/setup` where the router routes `/api/setup` (the shape of ScreenConnect
 * CVE-2024-1709); a guard that reads `guardPath(request.url)` sees what the router routes.
 */

/**
 * The origin-form (`/path?query`) of a request target, as fastify's router (find-my-way 9,
 * `getPathFromAbsoluteUrl` in its index.js) derives it before routing:
 *
 * - a target starting with `/` is routed as it is;
 * - `*` (the asterisk-form of `OPTIONS *`) is routed as `/`: the lookup skips a target's first
 *   character as if it were the leading `/`;
 * - any other target must be an absolute-form URL (RFC 9112 §3.2.2): an `http` or `https` scheme
 *   (any case), a non-empty authority, no `#` after the scheme, and a URL that `URL.parse` accepts
 *   with that scheme and a non-empty host. The router then routes what follows the authority: the
 *   text from the first `/` after `://`, or `/` + the query when a `?` comes first, or `/` alone;
 * - anything else is a bad URL (the router answers 400): undefined here.
 */
export function originForm(target: string): string | undefined {
  if (target.startsWith("/")) return target;
  if (target === "*") return "/";
  const schemeEnd = target.indexOf("://");
  if (schemeEnd === -1) return undefined;
  const scheme = target.slice(0, schemeEnd).toLowerCase();
  if (scheme !== "http" && scheme !== "https") return undefined;
  const authorityStart = schemeEnd + 3;
  const pathStart = target.indexOf("/", authorityStart);
  const queryStart = target.indexOf("?", authorityStart);
  let authorityEnd = pathStart === -1 ? target.length : pathStart;
  if (queryStart !== -1 && queryStart < authorityEnd) authorityEnd = queryStart;
  if (target.includes("#", authorityStart) || authorityEnd === authorityStart) return undefined;
  const parsed = URL.parse(target);
  if (parsed === null || parsed.protocol !== `${scheme}:` || parsed.host.length === 0) return undefined;
  if (authorityEnd === target.length) return "/";
  if (authorityEnd === queryStart) return `/${target.slice(queryStart)}`;
  return target.slice(pathStart);
}

/**
 * The path guards compare against: the routed path (see `originForm`; a target the router refuses
 * is taken as it came), without its query or fragment, its `.` and `..` segments resolved (as a
 * proxy in front or a browser would resolve them), %-decoded until stable (a few rounds),
 * backslashes as slashes, repeated slashes collapsed, lower case. Guards compare prefixes of it,
 * so every spelling an attacker might try for a path (case, encoding, extra slashes, an extra
 * segment, an absolute-form target) lands on the same string.
 */
export function guardPath(target: string): string {
  const routed = originForm(target) ?? target;
  let path = withoutDotSegments(routed.split(/[?#]/, 1)[0] ?? "");
  for (let round = 0; round < 3; round += 1) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(path);
    } catch {
      break;
    }
    if (decoded === path) break;
    path = decoded;
  }
  return path.replaceAll("\\", "/").replace(/\/+/g, "/").toLowerCase();
}

/**
 * RFC 3986's remove_dot_segments (never above the root), on the path as sent: `.` and `..` segments,
 * also spelled `%2e`, between literal slashes (an encoded slash separates nothing here).
 */
function withoutDotSegments(path: string): string {
  const segments = path.split("/");
  const kept: string[] = [];
  for (const [index, segment] of segments.entries()) {
    const last = index === segments.length - 1;
    const dots = segment.toLowerCase().replaceAll("%2e", ".");
    if (dots === "." || dots === "..") {
      if (dots === ".." && kept.length > 1) kept.pop();
      if (last) kept.push("");
    } else {
      kept.push(segment);
    }
  }
  return kept.join("/");
}
