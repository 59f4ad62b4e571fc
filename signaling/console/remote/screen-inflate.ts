/**
 * One raw deflate stream of the `screen` channel, decompressed by the browser
 * (`DecompressionStream("deflate-raw")`, no library): pieces go in in order, decompressed bytes
 * come out in order. The agent sync-flushes after every record, so what a message carries comes
 * out without waiting for the next one. A broken stream reports once; a closed one reports
 * nothing more (a new stream replaces it on the next START).
 */

export type Inflater = {
  write(piece: Uint8Array<ArrayBuffer>): void;
  /** Discards the stream; safe to call twice. */
  close(): void;
};

export function createInflater(events: {
  bytes(chunk: Uint8Array): void;
  failed(message: string): void;
}): Inflater {
  const stream = new DecompressionStream("deflate-raw");
  const writer = stream.writable.getWriter();
  const reader = stream.readable.getReader();
  let closed = false;
  const fail = (error: unknown): void => {
    if (closed) return;
    close();
    events.failed(error instanceof Error ? error.message : String(error));
  };
  const close = (): void => {
    if (closed) return;
    closed = true;
    writer.abort().catch(() => undefined);
    reader.cancel().catch(() => undefined);
  };
  const pump = async (): Promise<void> => {
    for (;;) {
      const { done, value } = await reader.read();
      if (closed) return;
      if (done) {
        fail(new Error("the deflate stream ended"));
        return;
      }
      events.bytes(value);
    }
  };
  pump().catch(fail);
  return {
    write(piece) {
      if (closed) return;
      writer.write(piece).catch(fail);
    },
    close,
  };
}
