/**
 * `node scripts/bench-capture-worker.ts`: the capture worker alone (ScreenStream: MIT-SHM capture,
 * I420 conversion, WebCodecs H.264) on a 1920x1080 Xvfb with a terminal scrolling text, without
 * the gateway, WebRTC or a browser: chunks per second, Mbit/s, the process's CPU (and so CPU
 * milliseconds per frame), the worker's counters and capture-to-chunk latency. A probe for the
 * worker's CPU per frame, less disturbed by the rest of the machine than bench:vs-vnc.
 *
 * Environment: PROBE_SECONDS (default 10), PROBE_FPS (the frame rate cap, default 20),
 * PROBE_WORKLOAD (a shell command for the terminal; default the repeated listing of bench:vs-vnc),
 * PROBE_SCREEN=1 (the screen copy path on, as with a console that said `screen.ready`: its
 * messages' bytes, and the path's milliseconds per frame in the worker, are reported too).
 */
import { ScreenStream } from "../agent/media/screen-stream.ts";
import { startXvfb, windowByName } from "../tests/helpers/xvfb.ts";

const seconds = Number(process.env.PROBE_SECONDS ?? 10);
const maxFps = Number(process.env.PROBE_FPS ?? 20);
const workload =
  process.env.PROBE_WORKLOAD ?? "while :; do date +%T.%N; ls -la /usr/lib | head -n 30; sleep 0.01; done";
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const xvfb = await startXvfb({ width: 1920, height: 1080 });
process.env.DISPLAY = xvfb.display;
xvfb.client("xterm", ["-geometry", "318x52+0+400", "-T", "sos-scrolling", "-e", "sh", "-c", workload]);
await windowByName(xvfb, "sos-scrolling");
const stream = await ScreenStream.start({ monitor: 0, codec: "h264", maxFps, bitrate: 3_000_000 });
const screenPath = process.env.PROBE_SCREEN === "1";
let chunks = 0;
let bytes = 0;
let screenBytes = 0;
let screenRecords = 0;
stream.on("screen", ({ messages }) => {
  screenRecords += 1;
  for (const message of messages) screenBytes += message.length;
});
if (screenPath) stream.screenPath(true);
const latencies: number[] = [];
stream.on("chunk", (chunk) => {
  chunks += 1;
  bytes += chunk.data.length;
  latencies.push(performance.timeOrigin + performance.now() - chunk.capturedAt);
});
stream.run(true);
await sleep(2_000);
const statsBefore = await stream.stats();
const [chunksBefore, bytesBefore] = [chunks, bytes];
const [screenBytesBefore, screenRecordsBefore] = [screenBytes, screenRecords];
const cpuBefore = process.cpuUsage();
const start = performance.now();
latencies.length = 0;
await sleep(seconds * 1000);
const stats = await stream.stats();
const cpu = process.cpuUsage(cpuBefore);
const elapsed = (performance.now() - start) / 1000;
latencies.sort((a, b) => a - b);
const fps = (chunks - chunksBefore) / elapsed;
const cpuShare = (cpu.user + cpu.system) / 1e6 / elapsed;
console.log(
  JSON.stringify({
    load: (await import("node:os")).loadavg()[0]?.toFixed(2),
    fps: fps.toFixed(1),
    mbps: (((bytes - bytesBefore) * 8) / elapsed / 1e6).toFixed(2),
    cpuPercent: (cpuShare * 100).toFixed(0),
    cpuMsPerFrame: ((cpuShare * 1000) / fps).toFixed(1),
    captured: stats.captured - statsBefore.captured,
    changed: stats.changed - statsBefore.changed,
    encoded: stats.encoded - statsBefore.encoded,
    busy: stats.busy - statsBefore.busy,
    fpsLimit: stats.fps,
    workMs: stats.workMs.toFixed(1),
    latencyP50: latencies[Math.floor(latencies.length / 2)]?.toFixed(0),
    latencyP99: latencies[Math.floor(latencies.length * 0.99)]?.toFixed(0),
    ...(screenPath
      ? {
          screenMbps: (((screenBytes - screenBytesBefore) * 8) / elapsed / 1e6).toFixed(3),
          screenRecords: screenRecords - screenRecordsBefore,
          screenFrames: stats.screenFrames - statsBefore.screenFrames,
          screenMsPerFrame: (
            (stats.screenWorkMs - statsBefore.screenWorkMs) /
            Math.max(1, stats.screenFrames - statsBefore.screenFrames)
          ).toFixed(2),
        }
      : {}),
  }),
);
await stream.close();
await xvfb.stop();
process.exit(0);
