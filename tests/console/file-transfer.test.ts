import { createHash, randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { unzipSync } from "fflate";
import type { Page } from "playwright-core";
import t from "tap";
import { sanitizeFileName } from "../../shared/file-names.ts";
import { launchBrowser } from "../helpers/browser.ts";
import { startTestGateway } from "../helpers/gateway.ts";
import { startXvfb } from "../helpers/xvfb.ts";
import { connectionsSeen, finalNames, controlledSession as open, transferItem } from "./files-page.ts";

/**
 * Files both ways over the `files` data channel: the console in headless Chromium, the real
 * gateway, the real agent under Xvfb saving into a folder of the test's (--files-dir). A file to
 * the end user and one back arrive with equal SHA-256, with progress seen on both sides; a cancel
 * half-way leaves nothing under the final name; hostile names land sanitized; an end user who
 * refuses files (--no-files) gets nothing.
 */

const xvfb = await startXvfb({ width: 1024, height: 600 });
t.teardown(() => xvfb.stop());
const gateway = await startTestGateway();
t.teardown(() => gateway.close());
const browser = await launchBrowser();
t.teardown(() => browser.close());
const work = await mkdtemp(join(tmpdir(), "sos-file-transfer-"));
t.teardown(() => rm(work, { recursive: true, force: true }));

const MB = 1024 * 1024;
const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");
const controlledSession = (name: string, agentArgs: readonly string[]) =>
  open({ t, browser, gateway, xvfb }, name, agentArgs);

/** Drops files made in the page (names exactly as given) on the remote screen. */
async function dropFiles(
  page: Page,
  files: ReadonlyArray<{ name: string; text: string }>,
): Promise<string[]> {
  return page.evaluate((list) => {
    const transfer = new DataTransfer();
    for (const file of list) transfer.items.add(new File([file.text], file.name));
    const stage = document.querySelector(".stage");
    stage?.dispatchEvent(
      new DragEvent("dragover", { dataTransfer: transfer, bubbles: true, cancelable: true }),
    );
    stage?.dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true, cancelable: true }));
    return Array.from(transfer.files, (file) => file.name);
  }, files);
}

t.test(
  "a file to the end user and one back, equal hashes, progress both sides; cancel; hostile names",
  async (t) => {
    const inbox = join(work, "inbox");
    const { page, errors, agent } = await controlledSession("Files both ways", ["--files-dir", inbox]);

    // To the end user: picked in the console, announced in the terminal, saved whole.
    const big = randomBytes(20 * MB);
    const bigPath = join(work, "setup.bin");
    await writeFile(bigPath, big);
    await page.getByLabel("Send files to the end user").setInputFiles(bigPath);
    await agent.line(
      /^\[File\] Tom Files both ways sends you "setup\.bin" \(21\.0 MB\), saved to .*inbox\. Type x/,
    );
    await transferItem(page, "setup.bin").getByRole("progressbar").waitFor();
    t.pass("the console shows a progress bar while it sends");
    await agent.line(/^\[File\] "setup\.bin": (25|50|75) % \([\d.]+ [KMG]?B\/s\)$/, 60_000);
    const saved = await agent.line(
      /^\[File\] Saved: .*setup\.bin \(21\.0 MB, [\d.]+ [KMG]?B\/s, SHA-256 checked\)\.$/,
      60_000,
    );
    t.ok(saved.includes(join(inbox, "setup.bin")));
    t.equal(
      sha256(await readFile(join(inbox, "setup.bin"))),
      sha256(big),
      "the saved file has the sent file's SHA-256",
    );
    await transferItem(page, "setup.bin").getByText("Done, SHA-256 checked").waitFor();
    // Files go over a connection of their own (node-datachannel on the agent), not the view's.
    t.same(
      await connectionsSeen(page),
      [
        { channels: ["control", "screen"], track: true },
        { channels: ["files"], track: false },
      ],
      "the view's connection carries video, control and screen; a second one carries only files",
    );

    // Back from the end user: `f <path>` in the terminal, fetched in the console as a download.
    const log = randomBytes(12 * MB);
    const logPath = join(work, "printer log.txt");
    await writeFile(logPath, log);
    agent.type(`f "${logPath}"`);
    await agent.line(/^\[File\] "printer log\.txt" \(12\.6 MB\) offered to Tom Files both ways;/);
    const downloading = page.waitForEvent("download", { timeout: 60_000 });
    await page.getByRole("button", { name: "Download printer log.txt" }).click();
    await transferItem(page, "printer log.txt").getByRole("progressbar").waitFor();
    const download = await downloading;
    t.equal(download.suggestedFilename(), "printer log.txt");
    const fetched = join(work, "fetched.txt");
    await download.saveAs(fetched);
    t.equal(sha256(await readFile(fetched)), sha256(log), "the download has the offered file's SHA-256");
    await agent.line(
      /^\[File\] "printer log\.txt" received by Tom Files both ways \([\d.]+ [KMG]?B\/s, SHA-256 checked\)\.$/,
    );

    // Cancelled half-way by the technician: nothing under the final name, no temporary file.
    const third = join(work, "cancel-me.iso");
    await writeFile(third, randomBytes(32 * MB));
    await page.getByLabel("Send files to the end user").setInputFiles(third);
    await agent.line(/^\[File\] "cancel-me\.iso": 25 %/, 60_000);
    await transferItem(page, "cancel-me.iso").getByRole("button", { name: "Cancel cancel-me.iso" }).click();
    await agent.line(/^\[File\] "cancel-me\.iso" was cancelled by the technician; nothing was kept\.$/);
    await transferItem(page, "cancel-me.iso").getByText("Cancelled").waitFor();
    t.same(await finalNames(inbox), ["setup.bin"], "no partial file under its final name, no temporary file");

    // A folder, packed as a .zip in the console.
    const folder = join(work, "printer-logs");
    await mkdir(join(folder, "old"), { recursive: true });
    await writeFile(join(folder, "today.log"), "paper jam\n");
    await writeFile(join(folder, "old", "monday.log"), "toner low\n");
    await page.getByLabel("Send a folder (as a .zip)").setInputFiles(folder);
    await agent.line(/^\[File\] Saved: .*printer-logs\.zip \(/);
    const unpacked = unzipSync(new Uint8Array(await readFile(join(inbox, "printer-logs.zip"))));
    t.same(
      Object.fromEntries(
        Object.entries(unpacked).map(([path, data]) => [path, Buffer.from(data).toString()]),
      ),
      { "printer-logs/today.log": "paper jam\n", "printer-logs/old/monday.log": "toner low\n" },
      "the folder arrives as a .zip with its files and paths",
    );
    await rm(join(inbox, "printer-logs.zip"));

    // Hostile names, dropped on the screen: each lands sanitized in the download folder.
    const hostile = ["../../etc/passwd", "CON", "line one\nline two.txt", "\u001b[2Jclear.txt"];
    const asGiven = await dropFiles(
      page,
      hostile.map((name) => ({ name, text: `content of ${JSON.stringify(name)}` })),
    );
    const expected = asGiven.map(sanitizeFileName);
    for (const name of expected)
      await agent.line(new RegExp(`^\\[File\\] Saved: .*${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} \\(`));
    t.same(
      await finalNames(inbox),
      [...expected, "setup.bin"].sort(),
      "every hostile name saved sanitized, inside the folder",
    );
    for (const name of expected) {
      t.notOk(
        ["/", "\\", "\n", "\u001b"].some((bad) => name.includes(bad)),
        `no separator or control in ${JSON.stringify(name)}`,
      );
    }
    t.ok(expected.includes("_CON"), "a device name gets a prefix");
    t.notOk(
      agent.lines.some((line) => line.includes("\u001b")),
      "no escape sequence reached the terminal",
    );
    t.ok(
      agent.lines.some((line) =>
        line.startsWith('[File] Tom Files both ways sends you "line one_line two.txt" ('),
      ),
      "the end user is told each file under the name it is saved as",
    );
    // The agent reported each whole file; the gateway audits them (never the data), the agent as
    // the actor and Tom, whose view moved them, in the detail.
    const audit = await gateway.admin.get(`/api/audit?action=session.file`);
    const entries = (
      audit.body as { entries: Array<{ actor: { kind: string }; detail: Record<string, unknown> }> }
    ).entries;
    const files = entries.map((entry) => entry.detail);
    const byView = { technicianId: String, peerId: String };
    t.match(
      files.find((detail) => detail.name === "setup.bin"),
      { direction: "to_end_user", size: big.length, sha256: sha256(big), ...byView },
      "session.file for the file sent",
    );
    t.match(
      files.find((detail) => detail.name === "printer log.txt"),
      { direction: "from_end_user", size: log.length, sha256: sha256(log), ...byView },
      "session.file for the file fetched",
    );
    t.ok(
      entries.every((entry) => entry.actor.kind === "agent"),
      "each reported by the agent, none by the console",
    );
    t.notOk(
      files.some((detail) => detail.name === "cancel-me.iso"),
      "a cancelled file is not reported",
    );
    t.same(errors, [], "no errors in the console");
  },
);

t.test("an end user who refuses files (--no-files) gets nothing", async (t) => {
  const inbox = join(work, "refused");
  const { page, agent } = await controlledSession("No files", ["--files-dir", inbox, "--no-files"]);
  await dropFiles(page, [{ name: "unwanted.exe", text: "MZ" }]);
  await agent.line(
    /^\[File\] Refused "unwanted\.exe" \(2 B\) from Tom No files: you turned incoming files off\.$/,
  );
  await transferItem(page, "unwanted.exe").getByText("Failed: the end user does not accept files").waitFor();
  t.same(await finalNames(inbox), [], "nothing was written");
});
