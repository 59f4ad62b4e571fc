/**
 * Where a gateway's per-agent heap goes: two V8 heap snapshots (before and after K agents joined)
 * summed by what each object is (constructor or closure name, strings, code, arrays, ...), and the
 * difference divided by K, largest first. Used by `bench:gateway --heap-diff`.
 */
import { readFileSync } from "node:fs";

type Snapshot = {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
};

/** Bytes and count by kind: "object Foo", "closure bar", "string", "code", ... */
function totals(path: string): Map<string, { bytes: number; count: number }> {
  const heap = JSON.parse(readFileSync(path, "utf8")) as Snapshot;
  const fields = heap.snapshot.meta.node_fields;
  const types = heap.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf("type");
  const nameAt = fields.indexOf("name");
  const sizeAt = fields.indexOf("self_size");
  const byKind = new Map<string, { bytes: number; count: number }>();
  for (let i = 0; i < heap.nodes.length; i += width) {
    const type = types[heap.nodes[i + typeAt] ?? 0] ?? "?";
    const named = type === "object" || type === "closure" || type === "native" || type === "hidden";
    const name = named ? (heap.strings[heap.nodes[i + nameAt] ?? 0] ?? "?") : "";
    const kind = named ? `${type} ${name.slice(0, 60)}` : type;
    const entry = byKind.get(kind) ?? { bytes: 0, count: 0 };
    entry.bytes += heap.nodes[i + sizeAt] ?? 0;
    entry.count += 1;
    byKind.set(kind, entry);
  }
  return byKind;
}

export type HeapGrowth = { kind: string; bytesPerAgent: number; perAgent: number };

/** The totals of several snapshots (one per instance) added up. */
function totalsOf(paths: readonly string[]): Map<string, { bytes: number; count: number }> {
  const sum = new Map<string, { bytes: number; count: number }>();
  for (const path of paths) {
    for (const [kind, { bytes, count }] of totals(path)) {
      const entry = sum.get(kind) ?? { bytes: 0, count: 0 };
      entry.bytes += bytes;
      entry.count += count;
      sum.set(kind, entry);
    }
  }
  return sum;
}

/**
 * What grew from the `before` snapshots to the `after` ones (each several processes' added up), per
 * agent (of `agents`), the `top` largest.
 */
export function heapGrowth(
  before: readonly string[],
  after: readonly string[],
  agents: number,
  top = 25,
): HeapGrowth[] {
  const a = totalsOf(before);
  const b = totalsOf(after);
  const rows: HeapGrowth[] = [];
  for (const [kind, grown] of b) {
    const was = a.get(kind) ?? { bytes: 0, count: 0 };
    rows.push({
      kind,
      bytesPerAgent: Number(((grown.bytes - was.bytes) / agents).toFixed(1)),
      perAgent: Number(((grown.count - was.count) / agents).toFixed(2)),
    });
  }
  return rows.sort((x, y) => y.bytesPerAgent - x.bytesPerAgent).slice(0, top);
}
