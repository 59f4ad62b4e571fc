import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import t from "tap";
import { ApiClient, field, joinAgent, openConsoleSocket } from "../helpers/clients.ts";
import { freePort } from "../helpers/nginx.ts";
import { freshDatabase } from "../helpers/postgres.ts";

/**
 * `npm run cluster` as a new user runs it: two gateway instances on one PostgreSQL database behind
 * nginx, a support session through the balancer, one instance killed with SIGKILL, and the
 * session carrying on through the other (at the protocol level; the agent resumes as the real one
 * does after its socket drops).
 */
t.test(
  "npm run cluster: a session through nginx survives kill -9 of the instance holding its agent",
  async (t) => {
    const database = await freshDatabase();
    const dir = mkdtempSync(join(tmpdir(), "sos-cluster-"));
    const port = await freePort();
    const script = spawn(
      process.execPath,
      [
        "scripts/cluster.ts",
        "--instances",
        "2",
        "--port",
        String(port),
        "--dir",
        dir,
        "--database-url",
        database.url,
      ],
      { env: { ...process.env, SOS_LOG_LEVEL: "warn" }, stdio: ["ignore", "pipe", "pipe"] },
    );
    const exited = new Promise<number | null>((resolve) => script.once("exit", (code) => resolve(code)));
    let output = "";
    script.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    t.teardown(async () => {
      if (script.exitCode === null) script.kill("SIGTERM");
      await exited;
      rmSync(dir, { recursive: true, force: true });
      await database.drop();
    });
    await new Promise<void>((resolve, reject) => {
      script.stdout.on("data", (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes("SOS cluster ready")) resolve();
      });
      void exited.then((code) => reject(new Error(`npm run cluster exited ${code}: ${output}`)));
    });
    const instances = [...output.matchAll(/instance (\d): 127\.0\.0\.1:(\d+), pid (\d+)/g)].map((m) => ({
      port: Number(m[2]),
      pid: Number(m[3]),
    }));
    t.equal(instances.length, 2, "two instances");
    const token = /no admin yet: create the first one at \S+\/setup\?token=(\S+)/.exec(output)?.[1] ?? "";

    const lb = `http://127.0.0.1:${port}`;
    const publicOrigin = `http://localhost:${port}`;
    const admin = new ApiClient(lb);
    const setup = await admin.post("/api/setup", {
      token,
      email: "admin@example.test",
      name: "Ada",
      password: "admin-password-1",
    });
    t.equal(setup.status, 200, "the setup link it printed is the valid one");
    t.equal((await admin.signIn("admin@example.test", "admin-password-1")).status, 200);
    const created = await admin.post("/api/sessions", { channelId: "home", name: "Customer" });
    const sessionId = field(created.body, "session", "id");
    const { socket: agent, welcome } = await joinAgent(lb, {
      kind: "pin",
      pin: field(created.body, "invitation", "pin"),
    });
    t.teardown(() => agent.close());

    let holder: { port: number; pid: number } | undefined;
    for (const instance of instances) {
      const health = (await (await fetch(`http://127.0.0.1:${instance.port}/healthz`)).json()) as {
        agents: number;
      };
      if (health.agents === 1) holder = instance;
    }
    if (holder === undefined) throw new Error("no instance holds the agent");
    process.kill(holder.pid, "SIGKILL");
    await agent.closed;
    const { socket: back } = await joinAgent(lb, {
      kind: "resume",
      sessionId: welcome.resume.sessionId,
      secret: welcome.resume.secret,
    });
    t.teardown(() => back.close());
    t.pass("the agent resumed through nginx on the surviving instance");
    const consoleSocket = await openConsoleSocket(admin, publicOrigin);
    t.teardown(() => consoleSocket.close());
    const { sessions } = await consoleSocket.next("sessions");
    const session = sessions.find((s) => s.id === sessionId);
    t.equal(session?.status, "Active", "the session kept its status");
    t.equal(session?.agent.connected, true, "and shows its agent connected");

    script.kill("SIGTERM");
    t.equal(await exited, 0, "Ctrl-C/SIGTERM stops it with exit code 0");
  },
);
