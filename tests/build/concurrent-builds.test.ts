/**
 * Two SOS builds at once with one cache folder (two gateway instances, or `npm run build:sos`
 * while the console builds, or test files in parallel) each get their own executable: their
 * intermediate files (bundle, SEA configuration and blob, the executable being injected) must not
 * be one folder, where one build's configuration would end up in the other's executable.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import t from "tap";
import { buildSos, STALE_WORK_MS, sweepStaleWork } from "../../build/build.ts";

t.test(
  "two builds with different brands at once, one cache: each executable carries its own configuration",
  async (t) => {
    const work = mkdtempSync(join(tmpdir(), "sos-concurrent-build-"));
    t.teardown(() => rmSync(work, { recursive: true, force: true }));
    const cacheDir = join(work, "cache");
    const progress: string[] = [];
    const build = (brand: string) =>
      buildSos({
        config: { gateway: "https://support.example.com", brand },
        targets: ["linux-x64"],
        outDir: join(work, brand),
        cacheDir,
        progress: (line) => progress.push(line),
      });
    const brands = ["Alpha Desk", "Beta Desk"] as const;
    const results = await Promise.all(brands.map(build));
    for (const [index, brand] of brands.entries()) {
      const result = results[index];
      t.same(result?.failed, [], `${brand}: built`);
      const file = result?.built[0]?.file;
      if (file === undefined) throw new Error(`${brand}: no executable`);
      const executable = readFileSync(file);
      const other = brands[1 - index] ?? "";
      t.ok(executable.includes(`"brand":"${brand}"`), `${brand}: its own brand is baked in`);
      t.notOk(executable.includes(`"brand":"${other}"`), `${brand}: not the other build's`);
    }
    // Each build's intermediate folder is its own, yet the finished executable is still found by
    // its inputs: the same build again reuses it; no work folder is left behind.
    const before = progress.length;
    await build(brands[0]);
    t.ok(
      progress.slice(before).some((line) => line.includes("unchanged inputs, reusing")),
      "the same inputs again: the cached executable is reused",
    );
    t.same(
      readdirSync(cacheDir).filter((name) => name.startsWith("work-")),
      [],
      "no work folder is left",
    );
  },
);

t.test("a work folder a killed build left is swept once stale; a running build's is kept", async (t) => {
  const cacheDir = mkdtempSync(join(tmpdir(), "sos-work-sweep-"));
  t.teardown(() => rmSync(cacheDir, { recursive: true, force: true }));
  for (const name of ["work-old", "work-running", "executables"]) mkdirSync(join(cacheDir, name));
  const now = Date.now();
  const old = new Date(now - STALE_WORK_MS - 60_000);
  utimesSync(join(cacheDir, "work-old"), old, old);
  utimesSync(join(cacheDir, "executables"), old, old);
  sweepStaleWork(cacheDir, now);
  t.same(readdirSync(cacheDir).sort(), ["executables", "work-running"]);
});
