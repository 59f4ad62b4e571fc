import { spawn } from "node:child_process";

/** One sample of a scrape, as the Prometheus project's own parser read it. */
export type Sample = {
  family: string;
  type: string;
  name: string;
  labels: Record<string, string>;
  value: number;
};

/**
 * Parses a `/metrics` answer with the Prometheus Python client's text-format parser
 * (`prometheus_client.parser`, Debian `python3-prometheus-client`, so Debian's `/usr/bin/python3`): an independent, real parser, so
 * a scrape that a Prometheus server could not read fails here. Rejects with the parser's error.
 */
export function parsePrometheusText(text: string): Promise<Sample[]> {
  const program = [
    "import json, math, sys",
    "from prometheus_client.parser import text_string_to_metric_families",
    "out = []",
    "for family in text_string_to_metric_families(sys.stdin.read()):",
    "    for s in family.samples:",
    "        v = s.value",
    "        out.append({'family': family.name, 'type': family.type, 'name': s.name, 'labels': s.labels,",
    "                    'value': v if math.isfinite(v) else str(v)})",
    "json.dump(out, sys.stdout)",
  ].join("\n");
  const child = spawn("/usr/bin/python3", ["-c", program], { stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  child.stdin.end(text);
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => {
      if (code !== 0) {
        reject(new Error(`not Prometheus text: ${stderr.trim().split("\n").at(-1) ?? ""}`));
        return;
      }
      const parsed = JSON.parse(stdout) as Array<Omit<Sample, "value"> & { value: number | string }>;
      resolve(parsed.map((sample) => ({ ...sample, value: Number(sample.value) })));
    });
  });
}

/** The value of the one sample with that name and labels (undefined when absent). */
export function sampleValue(
  samples: readonly Sample[],
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const found = samples.find(
    (sample) =>
      sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
  );
  return found?.value;
}
