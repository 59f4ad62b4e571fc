import t from "tap";
import { nextStatus } from "../shared/status.ts";
t.test("smoke", async (t) => {
  t.equal(nextStatus("Waiting", "agentJoined", { agentConnected: true }), "Active");
});
