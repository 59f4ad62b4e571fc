import t from "tap";
import { ApiClient, field, joinAgent, openConsoleSocket } from "../helpers/clients.ts";
import { instanceLoad, startCluster } from "../helpers/cluster.ts";

/**
 * `npm run cluster` as a new user runs it: two gateway instances on one PostgreSQL database behind
 * nginx, a support session through the balancer, one instance killed with SIGKILL, and the
 * session carrying on through the other (at the protocol level; the agent resumes as the real one
 * does after its socket drops).
 */
t.test(
  "npm run cluster: a session through nginx survives kill -9 of the instance holding its agent",
  async (t) => {
    const cluster = await startCluster(t, 2);
    const { instances, setupToken: token } = cluster;
    t.equal(instances.length, 2, "two instances");

    const { lb, publicOrigin } = cluster;
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
      if ((await instanceLoad(instance)).agents === 1) holder = instance;
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

    t.equal(await cluster.stop(), 0, "Ctrl-C/SIGTERM stops it with exit code 0");
  },
);
