import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import t from "tap";
import { errorCode, startTestGateway } from "../helpers/gateway.ts";

const LINUX_UA =
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36";
const WINDOWS_UA =
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0";

t.test(
  "the landing page offers the build for the visitor's system, named with the session code",
  async (t) => {
    const gw = await startTestGateway();
    t.teardown(() => gw.close());
    const downloads = join(gw.dataDir, "downloads");
    mkdirSync(downloads, { recursive: true });
    // Stand-in files with build:sos's names: this test is about serving them, not building them.
    writeFileSync(join(downloads, "Acme-SOS-linux-x64"), "linux build bytes");
    writeFileSync(join(downloads, "Acme-SOS-win-x64.exe"), "windows build bytes");
    writeFileSync(join(downloads, "notes.txt"), "not a build");
    const session = await gw.newSession(gw.admin);

    const page = await gw
      .anonymous()
      .request("GET", `/s/${session.token}`, undefined, { "user-agent": LINUX_UA });
    t.equal(page.status, 200);
    const html = String(page.body);
    t.match(
      html,
      new RegExp(`href="/s/${session.token}/download/linux-x64"[^>]*>Download the SOS app for Linux`),
    );
    t.match(html, /download\/win-x64"[^>]*>Windows/, "other systems are offered too");
    t.notMatch(html, /notes\.txt/);

    const windowsPage = await gw
      .anonymous()
      .request("GET", `/s/${session.token}`, undefined, { "user-agent": WINDOWS_UA });
    t.match(String(windowsPage.body), /download\/win-x64"[^>]*>Download the SOS app for Windows/);

    const file = await gw.anonymous().get(`/s/${session.token}/download/linux-x64`);
    t.equal(file.status, 200);
    t.equal(String(file.body), "linux build bytes");
    t.equal(
      file.headers.get("content-disposition"),
      `attachment; filename="Acme-SOS-${session.token}"`,
      "the file name carries the session code, so the app joins without asking",
    );
    const exe = await gw.anonymous().get(`/s/${session.token}/download/win-x64`);
    t.match(exe.headers.get("content-disposition") ?? "", /Acme-SOS-[A-Za-z0-9_-]+\.exe"$/);

    const builds = await gw.admin.get("/api/builds");
    t.same(
      (builds.body as { builds: Array<{ target: string; file: string }> }).builds.map((b) => [
        b.target,
        b.file,
      ]),
      [
        ["linux-x64", "Acme-SOS-linux-x64"],
        ["win-x64", "Acme-SOS-win-x64.exe"],
      ],
      "admins see the available builds",
    );
  },
);

t.test("downloads refuse unknown targets, path tricks and dead sessions alike", async (t) => {
  const gw = await startTestGateway();
  t.teardown(() => gw.close());
  const downloads = join(gw.dataDir, "downloads");
  mkdirSync(downloads, { recursive: true });
  writeFileSync(join(downloads, "Acme-SOS-linux-x64"), "linux build bytes");
  writeFileSync(join(gw.dataDir, "secret.txt"), "secret");
  const session = await gw.newSession(gw.admin);
  for (const target of [
    "darwin-arm64",
    "..%2Fsecret.txt",
    "..%2F..%2Fgateway.db",
    "linux-x64%00",
    "LINUX-X64",
  ]) {
    const response = await gw.anonymous().get(`/s/${session.token}/download/${target}`);
    t.not(response.status, 200, `${target} is refused`);
    t.notOk(String(response.body).includes("secret"), `${target} reveals nothing`);
  }
  await gw.admin.post(`/api/sessions/${session.id}/close`);
  const closed = await gw.anonymous().get(`/s/${session.token}/download/linux-x64`);
  t.equal(closed.status, 404, "a closed session's link offers nothing");
  t.equal(errorCode(closed.body), "NOT_FOUND");
  const unknown = await gw.anonymous().get(`/s/${"A".repeat(24)}/download/linux-x64`);
  t.same([unknown.status, unknown.body], [closed.status, closed.body], "an unknown link answers alike");
  const technician = await gw.technician("Tina");
  t.equal(
    errorCode((await technician.client.get("/api/builds")).body),
    "FORBIDDEN",
    "the build list is for admins",
  );
});
