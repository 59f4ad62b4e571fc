import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import t from "tap";
import { launchBrowser } from "../helpers/browser.ts";
import { startTestGateway } from "../helpers/gateway.ts";
import { startXvfb } from "../helpers/xvfb.ts";
import { connectionsSeen, controlledSession } from "./files-page.ts";

/**
 * Files when the agent cannot load node-datachannel (an executable without the addon): the real
 * agent started with `--import tests/helpers/no-datachannel.ts`, whose resolve hook makes the
 * package missing as it is from such an executable. The console in headless Chromium still asks
 * for a files connection; the agent offers none, tells the end user once that files go the slower
 * way, and files go over the view's own werift connection (its `files` channel): a file to the end
 * user and one back arrive with equal SHA-256. (With the addon: file-transfer.test.ts.)
 */

const xvfb = await startXvfb({ width: 800, height: 600 });
t.teardown(() => xvfb.stop());
const gateway = await startTestGateway();
t.teardown(() => gateway.close());
const browser = await launchBrowser();
t.teardown(() => browser.close());
const work = await mkdtemp(join(tmpdir(), "sos-file-fallback-"));
t.teardown(() => rm(work, { recursive: true, force: true }));

const MB = 1024 * 1024;
const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");
const WITHOUT_DATACHANNEL = resolve("tests/helpers/no-datachannel.ts");

t.test(
  "without node-datachannel, files go both ways over the view's own connection, equal hashes",
  async (t) => {
    const inbox = join(work, "inbox");
    // Every signal between console and gateway, as the WebSocket carried it.
    const frames: string[] = [];
    const { page, errors, agent } = await controlledSession(
      { t, browser, gateway, xvfb },
      "Fallback",
      ["--files-dir", inbox],
      async (page) => {
        page.on("websocket", (socket) => {
          socket.on("framesent", ({ payload }) => frames.push(payload.toString()));
          socket.on("framereceived", ({ payload }) => frames.push(payload.toString()));
        });
      },
      { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --import=${WITHOUT_DATACHANNEL}`.trim() },
    );
    page.setDefaultTimeout(30_000);
    await agent.line(/^\[File\] Fast file transfer is not available on this computer/);
    t.pass("the end user is told that files go the slower way");

    // To the end user: werift moves 1-5 MB/s on a loaded machine, so a few MB.
    const sent = randomBytes(4 * MB);
    const sentPath = join(work, "driver.zip");
    await writeFile(sentPath, sent);
    await page.getByLabel("Send files to the end user").setInputFiles(sentPath);
    await agent.line(
      /^\[File\] Saved: .*driver\.zip \(4\.19 MB, [\d.]+ [KMG]?B\/s, SHA-256 checked\)\.$/,
      90_000,
    );
    t.equal(
      sha256(await readFile(join(inbox, "driver.zip"))),
      sha256(sent),
      "the saved file has the sent file's SHA-256",
    );

    // Back from the end user, fetched in the console as a download.
    const offered = randomBytes(2 * MB);
    const offeredPath = join(work, "setup.log");
    await writeFile(offeredPath, offered);
    agent.type(`f ${offeredPath}`);
    await agent.line(/^\[File\] "setup\.log" \(2\.10 MB\) offered to Tom Fallback;/);
    const downloading = page.waitForEvent("download", { timeout: 90_000 });
    await page.getByRole("button", { name: "Download setup.log" }).click();
    const download = await downloading;
    const fetched = join(work, "fetched.log");
    await download.saveAs(fetched);
    t.equal(sha256(await readFile(fetched)), sha256(offered), "the download has the offered file's SHA-256");
    await agent.line(
      /^\[File\] "setup\.log" received by Tom Fallback \([\d.]+ [KMG]?B\/s, SHA-256 checked\)\.$/,
    );

    t.same(
      await connectionsSeen(page),
      [{ channels: ["control", "files", "screen"], track: true }],
      "one connection, the view's: video, control, files and screen",
    );
    t.ok(
      frames.some(
        (frame) => frame.includes('"type":"remote.connect"') && frame.includes('"filesConnection":true'),
      ),
      "the console asked for a files connection",
    );
    t.notOk(
      frames.some((frame) => frame.includes('"peer":"files"')),
      "no signal of a files connection went either way",
    );
    t.same(errors, [], "no errors in the console");
  },
);
