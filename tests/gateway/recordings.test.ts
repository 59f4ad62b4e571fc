import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import t from "tap";
import { MAX_RECORDING_CHUNK_BYTES } from "../../shared/limits.ts";
import {
  type ApiClient,
  errorCode,
  field,
  joinAgent,
  startTestGateway,
  TestClock,
} from "../helpers/gateway.ts";
import { waitUntil } from "../helpers/xvfb.ts";

/**
 * Session recording on the real gateway (SQLite, and PostgreSQL in the suite's second run): the
 * channel's setting, the agent told before any byte is taken, append-only chunks with every bad
 * one refused with a code and nothing changed, the permission to list, watch and download (with
 * HTTP Range), the audit, a failing disk, and retention at a moved clock.
 */

const DAY = 86_400_000;
const clock = new TestClock();
const gw = await startTestGateway({ options: { clock, retentionSweepIntervalMs: 0 } });
t.teardown(() => gw.close());

const tom = await gw.technician("Tom");
const rita = await gw.technician("Rita Reviewer", { viewRecordings: true });
const nora = await gw.technician("Nora");

/** A raw chunk upload as the console sends it. */
async function chunk(
  client: ApiClient,
  id: string,
  offset: number | string,
  body: Uint8Array<ArrayBuffer> | string,
  type = "application/octet-stream",
  csrf = true,
) {
  const headers: Record<string, string> = { "content-type": type, cookie: client.cookie ?? "" };
  if (csrf) headers["x-csrf-token"] = client.csrfToken ?? "";
  const response = await fetch(`${gw.url}/api/recordings/${id}/chunks?offset=${offset}`, {
    method: "POST",
    headers,
    body,
  });
  const text = await response.text();
  return { status: response.status, body: text === "" ? undefined : (JSON.parse(text) as unknown) };
}

async function bytesOf(id: string): Promise<number> {
  const rows = await gw.query("SELECT bytes FROM recordings WHERE id = ?", id);
  return Number(rows[0]?.bytes ?? -1);
}

const created = await gw.admin.post("/api/channels", {
  name: "Recorded desk",
  access: [tom.id, rita.id, nora.id],
  recording: { mode: "request", retentionDays: 2 },
});
const channelId = field(created.body, "channel", "id");
const session = await gw.newSession(tom.client, channelId);
const { socket: agent } = await joinAgent(gw.url, { kind: "pin", pin: session.pin });
t.teardown(() => agent.close());
await tom.client.post(`/api/sessions/${session.id}/permission`, { access: "view" });
const ask = await agent.next("consent.request");
agent.send({ type: "consent", requestId: ask.requestId, decision: "view" });
await waitUntil(
  async () =>
    (await gw.query("SELECT state FROM session_permissions WHERE session_id = ?", session.id))[0]?.state ===
    "granted",
  5_000,
  "consent stored",
);

t.test("a channel records nothing unless set to; the setting is the channel's", async (t) => {
  const plain = await gw.admin.post("/api/channels", { name: "Plain desk", access: [] });
  t.same(field(plain.body, "channel", "recording", "mode"), "off", "off by default");
  t.match(plain.body, { channel: { recording: { retentionDays: 30 } } }, "kept 30 days by default");
  const bad = await gw.admin.post("/api/channels", { name: "Bad", recording: { mode: "sometimes" } });
  t.equal(errorCode(bad.body), "BAD_REQUEST");
  const noDays = await gw.admin.patch(`/api/channels/${channelId}`, { recording: { retentionDays: 0 } });
  t.equal(errorCode(noDays.body), "BAD_REQUEST", "a retention of 0 days is refused");

  await gw.admin.patch(`/api/channels/${channelId}`, { recording: { mode: "off" } });
  const refused = await tom.client.post(`/api/sessions/${session.id}/recordings`);
  t.equal(refused.status, 409);
  t.equal(errorCode(refused.body), "RECORDING_OFF", "off: the gateway refuses to start");
  const back = await gw.admin.patch(`/api/channels/${channelId}`, { recording: { mode: "request" } });
  t.match(back.body, { channel: { recording: { mode: "request", retentionDays: 2 } } });
  const noConsent = await nora.client.post(`/api/sessions/${session.id}/recordings`);
  t.equal(errorCode(noConsent.body), "NOT_ON_SESSION", "only who may see the screen records it");
  t.equal((await gw.query("SELECT id FROM recordings")).length, 0, "nothing was started");
});

t.test("start, the agent told first, chunks append-only, every bad chunk refused", async (t) => {
  const started = await tom.client.post(`/api/sessions/${session.id}/recordings`);
  t.equal(started.status, 200, JSON.stringify(started.body));
  const id = field(started.body, "recording", "id");
  t.match(started.body, { recording: { confirmedAt: null, bytes: 0, technician: { name: "Tom" } } });
  const told = await agent.next("recording.start");
  t.same(told, { type: "recording.start", recordingId: id, technician: { id: tom.id, name: "Tom" } });

  const early = await chunk(tom.client, id, 0, "AAAA");
  t.equal(early.status, 409);
  t.equal(errorCode(early.body), "RECORDING_NOT_CONFIRMED", "no byte before the end user was told");
  agent.send({ type: "recording.confirm", recordingId: id });
  await waitUntil(
    async () =>
      ((await tom.client.get(`/api/recordings/${id}`)).body as { recording: { confirmedAt: string | null } })
        .recording.confirmedAt !== null,
    5_000,
    "the agent's confirmation",
  );

  const first = await chunk(tom.client, id, 0, "AAAA");
  t.equal(first.status, 200, JSON.stringify(first.body));
  t.match(first.body, { recording: { bytes: 4 } });

  const refusals: Array<[string, Awaited<ReturnType<typeof chunk>>, number, string]> = [
    ["the same chunk again", await chunk(tom.client, id, 0, "AAAA"), 409, "RECORDING_OFFSET_MISMATCH"],
    ["a gap", await chunk(tom.client, id, 9, "ZZZZ"), 409, "RECORDING_OFFSET_MISMATCH"],
    [
      "JSON instead of bytes",
      await chunk(tom.client, id, 4, '{"a":1}', "application/json"),
      400,
      "BAD_REQUEST",
    ],
    ["text instead of bytes", await chunk(tom.client, id, 4, "ZZZZ", "text/plain"), 400, "BAD_REQUEST"],
    ["an empty body", await chunk(tom.client, id, 4, new Uint8Array(0)), 400, "BAD_REQUEST"],
    [
      "a chunk over the limit",
      await chunk(tom.client, id, 4, new Uint8Array(MAX_RECORDING_CHUNK_BYTES + 1)),
      413,
      "MESSAGE_TOO_LARGE",
    ],
    ["a negative offset", await chunk(tom.client, id, -1, "ZZZZ"), 400, "BAD_REQUEST"],
    ["no offset number", await chunk(tom.client, id, "four", "ZZZZ"), 400, "BAD_REQUEST"],
    ["an id that is no id", await chunk(tom.client, "..%2F..%2Fetc", 4, "ZZZZ"), 400, "BAD_REQUEST"],
    ["an unknown id", await chunk(tom.client, "nosuchrecording", 4, "ZZZZ"), 404, "RECORDING_NOT_FOUND"],
    ["another technician's upload", await chunk(rita.client, id, 4, "ZZZZ"), 404, "RECORDING_NOT_FOUND"],
    ["no CSRF token", await chunk(tom.client, id, 4, "ZZZZ", undefined, false), 403, "CSRF_FAILED"],
  ];
  for (const [what, response, status, code] of refusals) {
    t.equal(response.status, status, `${what}: ${status}`);
    t.equal(errorCode(response.body), code, `${what}: ${code}`);
  }
  t.equal(await bytesOf(id), 4, "the store still counts 4 bytes");
  const file = join(gw.dataDir, "recordings", `${id}.webm`);
  t.equal(readFileSync(file, "utf8"), "AAAA", "the file holds the first chunk only");

  // A disk that refuses: the chunk is refused with a code, nothing counts, the gateway carries on.
  rmSync(file);
  mkdirSync(file);
  const failing = await chunk(tom.client, id, 4, "BBBB");
  t.equal(failing.status, 503);
  t.equal(errorCode(failing.body), "RECORDING_STORAGE_FAILED");
  t.equal(await bytesOf(id), 4, "nothing counted");
  rmSync(file, { recursive: true });
  writeFileSync(file, "AAAA");
  t.equal((await fetch(`${gw.url}/healthz`)).status, 200, "the gateway is up and healthy");

  const second = await chunk(tom.client, id, 4, "BBBB");
  t.match(second.body, { recording: { bytes: 8 } }, "the same chunk goes through once the disk takes it");
  const stopped = await tom.client.post(`/api/recordings/${id}/stop`, { durationMs: 2_500 });
  t.match(stopped.body, { recording: { bytes: 8, durationMs: 2_500 } });
  t.not(field(stopped.body, "recording", "endedAt"), "");
  t.same(await agent.next("recording.stop"), {
    type: "recording.stop",
    recordingId: id,
    technician: { id: tom.id, name: "Tom" },
  });
  const late = await chunk(tom.client, id, 8, "CCCC");
  t.equal(errorCode(late.body), "RECORDING_ENDED", "no chunk after the stop");
  t.equal(readFileSync(file, "utf8"), "AAAABBBB");
});

t.test("only admins and technicians with the permission list, watch and download", async (t) => {
  const list = `/api/sessions/${session.id}/recordings`;
  for (const client of [nora.client, tom.client]) {
    const refused = await client.get(list);
    t.equal(refused.status, 403);
    t.equal(errorCode(refused.body), "RECORDINGS_NOT_PERMITTED");
  }
  const listed = (await rita.client.get(list)).body as { recordings: Array<{ id: string; bytes: number }> };
  t.equal(listed.recordings.length, 1);
  const id = listed.recordings[0]?.id ?? "";
  t.equal((await gw.admin.get(list)).status, 200, "admins always may");

  const video = `${gw.url}/api/recordings/${id}/video`;
  const as = (client: ApiClient, extra: Record<string, string> = {}) => ({
    headers: { cookie: client.cookie ?? "", ...extra },
  });
  const noraWatch = await fetch(video, as(nora.client));
  t.equal(noraWatch.status, 403);
  t.equal(errorCode(await noraWatch.json()), "RECORDINGS_NOT_PERMITTED");
  t.equal((await fetch(video, as(tom.client))).status, 403, "not even to who recorded it");

  const whole = await fetch(video, as(rita.client));
  t.equal(whole.status, 200);
  t.equal(whole.headers.get("content-type"), "video/webm");
  t.equal(whole.headers.get("accept-ranges"), "bytes");
  t.equal(await whole.text(), "AAAABBBB");
  const part = await fetch(video, as(rita.client, { range: "bytes=2-5" }));
  t.equal(part.status, 206);
  t.equal(part.headers.get("content-range"), "bytes 2-5/8");
  t.equal(await part.text(), "AABB");
  const beyond = await fetch(video, as(rita.client, { range: "bytes=20-" }));
  t.equal(beyond.status, 200, "a range outside the file: the whole file");
  t.equal(await beyond.text(), "AAAABBBB");
  const download = await fetch(`${video}?download=1`, as(rita.client));
  t.match(download.headers.get("content-disposition"), /^attachment; filename="recording-.*\.webm"$/);
  t.equal(await download.text(), "AAAABBBB");

  const audit = (await gw.admin.get(`/api/audit?sessionId=${session.id}`)).body as {
    entries: Array<{ action: string; actor: { name: string | null }; detail: Record<string, unknown> }>;
  };
  const who = (action: string) =>
    audit.entries.filter((entry) => entry.action === action).map((entry) => entry.actor.name);
  t.same(who("recording.started"), ["Tom"]);
  t.same(who("recording.stopped"), ["Tom"]);
  t.equal(who("recording.confirmed").length, 1, "the agent's confirmation is audited");
  t.same(who("recording.watched"), ["Rita Reviewer"], "one watch (the range request is part of it)");
  t.same(who("recording.downloaded"), ["Rita Reviewer"]);
});

t.test("deleted after its channel's retention, once, by however many sweeps", async (t) => {
  const [row] = await gw.query("SELECT id FROM recordings");
  const id = String(row?.id);
  const file = join(gw.dataDir, "recordings", `${id}.webm`);
  clock.advance(DAY);
  t.equal(await gw.gateway.sweepRecordings(), 0, "one day into two: kept");
  t.equal(readFileSync(file, "utf8"), "AAAABBBB");
  clock.advance(DAY + 1);
  // Two instances sweeping at once (both run the same query and deletes): one deletes.
  const swept = await Promise.all([gw.gateway.sweepRecordings(), gw.gateway.sweepRecordings()]);
  t.equal(swept[0] + swept[1], 1, "deleted once");
  t.equal(await gw.gateway.sweepRecordings(), 0, "a later run finds nothing");
  t.same(await gw.query("SELECT id FROM recordings"), [], "the row is gone");
  t.throws(() => readFileSync(file), "the file is gone");
  await waitUntil(
    async () => (await gw.query("SELECT id FROM audit_log WHERE action = 'recording.deleted'")).length === 1,
    5_000,
    "the deletion audited once",
  );
});
