/**
 * The real agent with the FFmpeg encoder adapter (SOS_FFMPEG, Debian's ffmpeg: the adapter the
 * Windows build uses with its ffmpeg.exe) streaming to headless Chromium through the real gateway.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import t from "tap";
import { colouredWindow, startXvfb, waitUntil } from "../helpers/xvfb.ts";
import { browserTechnician, type Decodes, decodedFrame, inbound } from "./browser-technician.ts";
import { agentJoined, openDesk, permission, requestPermission, runAgent } from "./e2e-support.ts";

const BASELINE_ONLY: Decodes = [
  { mimeType: "video/H264", fmtp: "profile-level-id=42e01f" },
  { mimeType: "video/VP8" },
];

const xvfb = await startXvfb({ width: 1280, height: 720 });
t.teardown(() => xvfb.stop());

for (const codec of ["h264", "vp8"] as const) {
  t.test(
    `${codec} through FFmpeg: Chromium decodes the agent's screen at its size, and new frames as it changes`,
    async (t) => {
      const desk = await openDesk(t);
      const agent = runAgent(
        t,
        xvfb,
        [desk.session.pin, "--gateway", desk.gw.url, "--codec", codec, "--log-level", "debug"],
        {
          SOS_FFMPEG: "ffmpeg",
        },
      );
      await agentJoined(desk);
      await requestPermission(desk.alice.client, desk.session.id);
      await agent.line(/asks to SEE and CONTROL your screen/);
      agent.type("y");
      await permission(desk.console, desk.session.id, desk.alice.id, "granted");
      // For H.264 the browser stands in for one that decodes constrained baseline only (Firefox
      // with OpenH264): the adapter's stream is that profile, so it gets H.264, not VP8.
      const decodes = codec === "h264" ? BASELINE_ONLY : undefined;
      const { page, connect } = await browserTechnician(t, desk, undefined, decodes);
      await connect();
      // A rehearsal once saw no video at all within 30 s (4 runs after it passed): say what the agent did.
      const stats = await decodedFrame(page, 30_000, "a decoded frame in Chromium").catch(
        (error: unknown) => {
          throw new Error(`${String(error)}\nagent stderr (end):\n${agent.stderr().slice(-4_000)}`);
        },
      );
      t.same([stats?.frameWidth, stats?.frameHeight], [1280, 720]);
      t.match(stats?.codec, codec === "h264" ? /video\/H264 .*profile-level-id=42e01f/ : /video\/VP8/);
      const before = stats?.framesDecoded ?? 0;
      await colouredWindow(xvfb, {
        x: 500,
        y: 300,
        width: 200,
        height: 150,
        colour: "blue",
        name: `sos-ffmpeg-${codec}`,
      });
      await waitUntil(
        async () => ((await inbound(page))?.framesDecoded ?? 0) > before,
        15_000,
        "more frames decoded",
      );
      t.match(
        agent.stderr(),
        /"msg":"video encoder: ffmpeg"/,
        "the agent says which encoder it runs (debug log)",
      );
      agent.type("q");
      t.equal((await agent.exited).code, 0);
    },
  );
}

/** The ffmpeg processes whose parent is `pid`. */
function ffmpegChildren(pid: number): number[] {
  return readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .flatMap((entry) => {
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
        const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
        const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
        return name === "ffmpeg" && parent === pid ? [Number(entry)] : [];
      } catch {
        return [];
      }
    });
}

t.test(
  "when the agent is killed, its FFmpeg processes (the encoding one and the spare) exit too",
  async (t) => {
    const desk = await openDesk(t);
    const agent = runAgent(t, xvfb, [desk.session.pin, "--gateway", desk.gw.url], { SOS_FFMPEG: "ffmpeg" });
    await agentJoined(desk);
    await requestPermission(desk.alice.client, desk.session.id);
    await agent.line(/asks to SEE and CONTROL your screen/);
    agent.type("y");
    await permission(desk.console, desk.session.id, desk.alice.id, "granted");
    const { page, connect } = await browserTechnician(t, desk);
    await connect();
    await waitUntil(async () => ((await inbound(page))?.framesDecoded ?? 0) >= 1, 30_000, "a decoded frame");
    const pid = agent.child.pid;
    if (pid === undefined) throw new Error("no agent pid");
    let children: number[] = [];
    await waitUntil(
      async () => {
        children = ffmpegChildren(pid);
        return children.length >= 2;
      },
      15_000,
      "FFmpeg and its spare",
    );
    agent.child.kill("SIGKILL");
    await agent.exited;
    // Their stdin closes with the agent: FFmpeg reads the end of its input and exits.
    await waitUntil(
      async () => children.every((child) => !existsSync(`/proc/${child}`)),
      15_000,
      "FFmpeg gone",
    );
    t.pass(`${children.length} FFmpeg processes exited with the agent`);
  },
);
