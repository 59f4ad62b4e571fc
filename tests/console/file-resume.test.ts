import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import t from "tap";
import { FILE_CHUNK_BYTES, FILE_FRAME_HEADER_BYTES } from "../../shared/file-transfer.ts";
import { launchBrowser } from "../helpers/browser.ts";
import { startTestGateway } from "../helpers/gateway.ts";
import { startXvfb } from "../helpers/xvfb.ts";
import { relayConsoleSocket } from "./desk-page.ts";
import {
  breakFiles,
  connectionsSeen,
  controlledSession,
  filesConnections,
  finalNames,
  lastFilesBytes,
  releaseFiles,
  transferItem,
} from "./files-page.ts";

/**
 * A file transfer survives its files connection breaking: the agent makes a new files connection,
 * the console answers it, and the transfer goes on from the bytes the receiver has (not from the
 * start), both ways, with equal SHA-256 at the end. A break longer than the resume window fails
 * the transfer and leaves no partial file. The break is real: the console's files connection is
 * closed in the page (the agent's libdatachannel sees it end), and the next one can be held back.
 */

const xvfb = await startXvfb({ width: 1024, height: 600 });
t.teardown(() => xvfb.stop());
const gateway = await startTestGateway();
t.teardown(() => gateway.close());
const browser = await launchBrowser();
t.teardown(() => browser.close());
const work = await mkdtemp(join(tmpdir(), "sos-file-resume-"));
t.teardown(() => rm(work, { recursive: true, force: true }));
const world = { t, browser, gateway, xvfb };

const MB = 1024 * 1024;
const SIZE = 48 * MB;
const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");
const percentOf = (line: string) => Number(/(\d+) %/.exec(line)?.[1] ?? Number.NaN);
/** Bytes on the wire (data and each message's 4-byte header) for what lies past `percent` %, rounded down. */
const notYetThere = (percent: number) => {
  const rest = SIZE - Math.floor((SIZE * percent) / 100);
  return rest + Math.ceil(rest / FILE_CHUNK_BYTES) * FILE_FRAME_HEADER_BYTES;
};

t.test("a file each way, broken off mid-way, resumes where it stopped", async (t) => {
  const inbox = join(work, "inbox");
  const { page, errors, agent } = await controlledSession(world, "Resume", ["--files-dir", inbox]);
  const data = randomBytes(SIZE);
  const path = join(work, "to-end-user.bin");
  await writeFile(path, data);
  await page.getByLabel("Send files to the end user").setInputFiles(path);
  await agent.line(/^\[File\] "to-end-user\.bin": 25 %/, 60_000);

  await breakFiles(page, true);
  await agent.line(
    /^\[File\] "to-end-user\.bin": connection lost; it goes on if the connection is back within 120 s\.$/,
  );
  await transferItem(page, "to-end-user.bin").getByText("Connection lost: resuming…").waitFor();
  t.pass("both sides say the transfer waits for the connection");
  const waiting = await finalNames(inbox);
  t.notOk(waiting.includes("to-end-user.bin"), "nothing under the final name yet");
  t.ok(
    waiting.some((name) => name.endsWith(".sos-part")),
    "what arrived is kept under a temporary name",
  );
  await releaseFiles(page);

  const resumedAt = percentOf(
    await agent.line(/^\[File\] "to-end-user\.bin": connection back, resuming at (\d+) %\.$/, 30_000),
  );
  t.ok(resumedAt >= 25, `resumed from where it stopped (${resumedAt} %)`);
  await agent.line(/^\[File\] Saved: .*to-end-user\.bin \([\d.]+ MB, /, 60_000);
  t.equal(sha256(await readFile(join(inbox, "to-end-user.bin"))), sha256(data), "equal SHA-256");
  await transferItem(page, "to-end-user.bin").getByText("Done, SHA-256 checked").waitFor();
  t.equal(await filesConnections(page), 2, "a second files connection was made");
  const after = await lastFilesBytes(page);
  t.ok(
    after.sent > 0 && after.sent <= notYetThere(resumedAt),
    `sent after the break: ${after.sent} of ${SIZE} bytes, only what the agent did not have`,
  );
  t.same(await finalNames(inbox), ["to-end-user.bin"], "no temporary file left");

  // The other way, on the same view: the end user's file, fetched by the technician.
  const log = randomBytes(SIZE);
  const logPath = join(work, "from-end-user.log");
  await writeFile(logPath, log);
  agent.type(`f ${logPath}`);
  await agent.line(/^\[File\] "from-end-user\.log" \([\d.]+ MB\) offered to /);
  const downloading = page.waitForEvent("download", { timeout: 120_000 });
  await page.getByRole("button", { name: "Download from-end-user.log" }).click();
  await agent.line(/^\[File\] "from-end-user\.log": 25 %/, 60_000);

  await breakFiles(page);
  await agent.line(/^\[File\] "from-end-user\.log": connection lost; /);
  const resumed = await agent.line(
    /^\[File\] "from-end-user\.log": connection back, resuming at (\d+) %\.$/,
    30_000,
  );
  const fetchedAt = percentOf(resumed);
  t.ok(fetchedAt >= 25, `resumed from where it stopped (${fetchedAt} %)`);
  const download = await downloading;
  const fetched = join(work, "fetched.log");
  await download.saveAs(fetched);
  t.equal(sha256(await readFile(fetched)), sha256(log), "equal SHA-256");
  await agent.line(/^\[File\] "from-end-user\.log" received by .* SHA-256 checked\)\.$/);
  t.equal(await filesConnections(page), 3, "a third files connection was made");
  const back = await lastFilesBytes(page);
  t.ok(
    back.received > 0 && back.received <= notYetThere(fetchedAt),
    `received after the break: ${back.received} of ${SIZE} bytes, only what the console did not have`,
  );
  t.same(errors, [], "no errors in the console");
});

t.test(
  "a new view of the same technician (the console's socket dropped) takes the transfer up",
  async (t) => {
    const inbox = join(work, "new-view");
    let relay: Awaited<ReturnType<typeof relayConsoleSocket>> | undefined;
    const { page, errors, agent } = await controlledSession(
      world,
      "Resume view",
      ["--files-dir", inbox],
      async (page) => {
        relay = await relayConsoleSocket(page);
      },
    );
    const data = randomBytes(SIZE);
    const path = join(work, "new-view.bin");
    await writeFile(path, data);
    await page.getByLabel("Send files to the end user").setInputFiles(path);
    await agent.line(/^\[File\] "new-view\.bin": 25 %/, 60_000);

    // The gateway closes the view with the console's socket; the console reconnects and opens a new one.
    await relay?.drop();
    await agent.line(/^\[File\] "new-view\.bin": connection lost; /);
    const resumedAt = percentOf(
      await agent.line(/^\[File\] "new-view\.bin": connection back, resuming at (\d+) %\.$/, 30_000),
    );
    t.ok(resumedAt >= 25, `resumed from where it stopped (${resumedAt} %)`);
    await agent.line(/^\[File\] Saved: .*new-view\.bin \([\d.]+ MB, /, 60_000);
    t.equal(sha256(await readFile(join(inbox, "new-view.bin"))), sha256(data), "equal SHA-256");
    await transferItem(page, "new-view.bin").getByText("Done, SHA-256 checked").waitFor();
    const seen = await connectionsSeen(page);
    t.equal(seen.filter((entry) => entry.track).length, 2, "a new view was opened");
    const after = await lastFilesBytes(page);
    t.ok(
      after.sent > 0 && after.sent <= notYetThere(resumedAt),
      `sent on the new view's files connection: ${after.sent} of ${SIZE} bytes`,
    );
    t.same(errors, [], "no errors in the console");
  },
);

t.test("a break longer than the resume window fails the transfer and leaves no partial file", async (t) => {
  const inbox = join(work, "window");
  const { page, agent } = await controlledSession(world, "Resume window", [
    "--files-dir",
    inbox,
    "--files-resume-timeout",
    "2",
  ]);
  const path = join(work, "too-late.bin");
  await writeFile(path, randomBytes(SIZE));
  await page.getByLabel("Send files to the end user").setInputFiles(path);
  await agent.line(/^\[File\] "too-late\.bin": 25 %/, 60_000);

  await breakFiles(page, true);
  await agent.line(
    /^\[File\] "too-late\.bin": connection lost; it goes on if the connection is back within 2 s\.$/,
  );
  await agent.line(
    /^\[File\] "too-late\.bin" failed \(the connection did not come back in time\); nothing was kept\.$/,
  );
  t.same(await finalNames(inbox), [], "no partial file, not even under its temporary name");
  await releaseFiles(page);
  await transferItem(page, "too-late.bin")
    .getByText("Failed: the connection did not come back in time")
    .waitFor({ timeout: 30_000 });
  t.pass("the console says why it failed once the connection is back");
  t.same(await finalNames(inbox), [], "and nothing arrives later");
});
