/**
 * A real nginx (Debian's package) for tests, not the system service: the repository's site config
 * (deploy/nginx/sos-gateway.conf) rendered with the test's ports and paths, inside a minimal main
 * config whose pid file, logs and temp folders all live in the test's own folder.
 */
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { type RunningNginx, startNginx as startNginxProcess } from "../../scripts/nginx-process.ts";

const SITE_TEMPLATE = new URL("../../deploy/nginx/sos-gateway.conf", import.meta.url);

export type NginxSite = {
  readonly serverName: string;
  readonly httpListen: string;
  readonly httpsListen: string;
  readonly cert: string;
  readonly key: string;
  /** The gateway's plain-http address, host:port. */
  readonly gateway: string;
  /** The gateway's public https URL (its `--public-url`), where plain http redirects to. */
  readonly publicUrl: string;
};

/** The site config as an admin fills it in: every {{PLACEHOLDER}} replaced, none left. */
export function renderSite(site: NginxSite): string {
  const values: Record<string, string> = {
    SERVER_NAME: site.serverName,
    HTTP_LISTEN: site.httpListen,
    HTTPS_LISTEN: site.httpsListen,
    CERT: site.cert,
    KEY: site.key,
    GATEWAY: site.gateway,
    PUBLIC_URL: site.publicUrl,
  };
  const text = readFileSync(SITE_TEMPLATE, "utf8").replace(/\{\{([A-Z_]+)\}\}/g, (whole, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`no value for ${whole}`);
    return value;
  });
  return text;
}

/**
 * A port nobody listens on right now (the OS picks it; released at once). nginx must be told its
 * port in its config, and the gateway's public URL must name it before either starts.
 */
export function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export type { RunningNginx } from "../../scripts/nginx-process.ts";

/** The repository's site config rendered with `site`, in a real nginx running from `dir`. */
export function startNginx(dir: string, site: NginxSite): Promise<RunningNginx> {
  return startNginxProcess(dir, renderSite(site));
}
