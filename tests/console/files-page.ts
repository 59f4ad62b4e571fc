import { readdir } from "node:fs/promises";
import type { Browser, Locator, Page } from "playwright-core";
import { type AgentProcess, runAgent } from "../agent/e2e-support.ts";
import { openConsole, signIn } from "../helpers/browser.ts";
import { PASSWORD, type TestGateway } from "../helpers/gateway.ts";
import type { Xvfb } from "../helpers/xvfb.ts";
import { createSessionInDialog, selectSession } from "./desk-page.ts";

/**
 * The set-up of the file transfer tests (file-transfer.test.ts, file-resume.test.ts): a console
 * whose technician controls a real agent, and the page's own view of its peer connections.
 */

type Teardown = Parameters<typeof runAgent>[0];
export type FilesWorld = {
  readonly t: Teardown;
  readonly browser: Browser;
  readonly gateway: TestGateway;
  readonly xvfb: Xvfb;
};

/** Tom's console on a new session whose agent (with `agentArgs`) granted control; the remote view open. */
export async function controlledSession(
  world: FilesWorld,
  name: string,
  agentArgs: readonly string[],
  /** Runs on the page before it signs in (relayConsoleSocket, say). */
  beforeSignIn?: (page: Page) => Promise<void>,
  /** Added to the agent's environment (NODE_OPTIONS, say). */
  agentEnv?: NodeJS.ProcessEnv,
): Promise<{ page: Page; errors: string[]; agent: AgentProcess }> {
  const { browser, gateway, xvfb } = world;
  const tom = await gateway.technician(`Tom ${name}`);
  const { page, errors } = await openConsole(browser, gateway.url);
  page.setDefaultTimeout(20_000);
  await page.evaluate(recordConnections);
  await beforeSignIn?.(page);
  await signIn(page, tom.email, PASSWORD);
  const { pin } = await createSessionInDialog(page, name);
  const agent = runAgent(
    world.t,
    xvfb,
    [pin.replaceAll(" ", ""), "--gateway", gateway.url, ...agentArgs],
    agentEnv,
  );
  await agent.line(/Waiting for your technician/);
  const panel = await selectSession(page, name);
  await panel.getByRole("button", { name: "Start remote session" }).click();
  await agent.line(/asks to SEE and CONTROL your screen/);
  agent.type("y");
  await panel.getByText("Permission granted: click to connect").waitFor();
  await panel.getByRole("button", { name: "Start remote session" }).click();
  await page.getByRole("status").getByText("You control this computer.", { exact: true }).waitFor();
  await page.waitForFunction(() => {
    const input = document.querySelector<HTMLInputElement>(".files input[type=file]");
    return input !== null && !input.disabled;
  });
  return { page, errors, agent };
}

export function transferItem(page: Page, text: string | RegExp): Locator {
  return page.getByRole("list", { name: "File transfers" }).getByRole("listitem").filter({ hasText: text });
}

export async function finalNames(dir: string): Promise<string[]> {
  return (await readdir(dir).catch(() => [])).sort();
}

type Seen = { channels: string[]; track: boolean };
/** What the page counted on one connection's `files` channel: binary bytes sent and received. */
export type FilesBytes = { sent: number; received: number };

/**
 * In the page: each RTCPeerConnection the console makes, with the labels of the data channels it
 * gets and whether a track arrived (`window.sosConnections`); the connections themselves
 * (`window.sosPeers`); the binary bytes each one's `files` channel sent and received
 * (`window.sosFilesBytes`); and, while `window.sosHoldFiles` is a promise, a files connection's
 * offer (one without video) waits for it before it is set.
 */
function recordConnections(): void {
  const seen: Seen[] = [];
  const peers: RTCPeerConnection[] = [];
  const bytes: FilesBytes[] = [];
  const page = window as unknown as { sosHoldFiles: Promise<void> | null };
  Object.assign(window, { sosConnections: seen, sosPeers: peers, sosFilesBytes: bytes, sosHoldFiles: null });
  const Native = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends Native {
    constructor(configuration?: RTCConfiguration) {
      super(configuration);
      const entry: Seen = { channels: [], track: false };
      const counted: FilesBytes = { sent: 0, received: 0 };
      const channels: RTCDataChannel[] = [];
      Object.assign(this, { sosChannels: channels });
      seen.push(entry);
      peers.push(this);
      bytes.push(counted);
      this.addEventListener("datachannel", (event) => {
        const { channel } = event;
        entry.channels.push(channel.label);
        channels.push(channel);
        if (channel.label !== "files") return;
        const send = channel.send.bind(channel);
        channel.send = (data: string | Blob | ArrayBuffer | ArrayBufferView<ArrayBuffer>) => {
          if (typeof data !== "string") counted.sent += data instanceof Blob ? data.size : data.byteLength;
          send(data as never);
        };
        channel.addEventListener("message", (message: MessageEvent<unknown>) => {
          if (message.data instanceof ArrayBuffer) counted.received += message.data.byteLength;
        });
      });
      this.addEventListener("track", () => {
        entry.track = true;
      });
    }
    override async setRemoteDescription(description: RTCSessionDescriptionInit): Promise<void> {
      const hold = page.sosHoldFiles;
      if (hold !== null && description.type === "offer" && !(description.sdp ?? "").includes("m=video"))
        await hold;
      return super.setRemoteDescription(description);
    }
  };
}

export async function connectionsSeen(page: Page): Promise<Seen[]> {
  return page.evaluate(() => (window as unknown as { sosConnections: Seen[] }).sosConnections);
}

/** The bytes counted on the page's last connection that carried a `files` channel. */
export async function lastFilesBytes(page: Page): Promise<FilesBytes> {
  return page.evaluate(() => {
    const page = window as unknown as { sosConnections: Seen[]; sosFilesBytes: FilesBytes[] };
    const index = page.sosConnections.findLastIndex((entry) => entry.channels.includes("files"));
    return page.sosFilesBytes[index] ?? { sent: 0, received: 0 };
  });
}

/** How many connections with a `files` channel the page has had. */
export async function filesConnections(page: Page): Promise<number> {
  const seen = await connectionsSeen(page);
  return seen.filter((entry) => entry.channels.includes("files")).length;
}

/**
 * Breaks the files connection from the console's side, as a network that went away would: the
 * connection is closed (the agent's libdatachannel sees it end) and its channel reports `close`
 * in the page, as Chromium does when its transport dies (a local close() fires no event).
 * With `hold`, the next files connection's offer waits until release() is called.
 */
export async function breakFiles(page: Page, hold = false): Promise<void> {
  await page.evaluate((hold) => {
    const page = window as unknown as {
      sosConnections: Seen[];
      sosPeers: RTCPeerConnection[];
      sosHoldFiles: Promise<void> | null;
      sosRelease: () => void;
    };
    if (hold)
      page.sosHoldFiles = new Promise((resolve) => {
        page.sosRelease = resolve;
      });
    const index = page.sosConnections.findLastIndex((entry) => entry.channels.includes("files"));
    const pc = page.sosPeers[index];
    if (pc === undefined) throw new Error("no files connection to break");
    const channels = (pc as RTCPeerConnection & { sosChannels?: RTCDataChannel[] }).sosChannels ?? [];
    pc.close();
    for (const channel of channels) channel.dispatchEvent(new Event("close"));
  }, hold);
}

/** Lets a held files connection (breakFiles with `hold`) be made. */
export async function releaseFiles(page: Page): Promise<void> {
  await page.evaluate(() => {
    const page = window as unknown as { sosHoldFiles: Promise<void> | null; sosRelease?: () => void };
    page.sosHoldFiles = null;
    page.sosRelease?.();
  });
}
