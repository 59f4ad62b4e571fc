/**
 * `node signaling/downloads/compress-file.ts <source> <destination> <coding>`: writes the source
 * compressed in an HTTP content coding, and prints the SHA-256 of the bytes it compressed. The
 * gateway runs it as a child process at a low CPU priority (encoded-copies.ts), so a minute of
 * compressing never slows the sessions it serves.
 */
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream, statSync } from "node:fs";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { compressorFor, DOWNLOAD_ENCODINGS } from "./encodings.ts";

const [source = "", destination = "", coding = ""] = process.argv.slice(2);
const encoding = DOWNLOAD_ENCODINGS.find((e) => e === coding);
if (encoding === undefined) {
  process.stderr.write(`compress-file: unknown coding ${coding}\n`);
  process.exit(2);
}
const hash = createHash("sha256");
await pipeline(
  createReadStream(source),
  new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  }),
  compressorFor(encoding, statSync(source).size),
  createWriteStream(destination),
);
process.stdout.write(`${hash.digest("hex")}\n`);
