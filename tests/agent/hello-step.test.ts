import t from "tap";
import { helloStep } from "../../agent/session/hello-outcome.ts";
import { gatewayToAgentSchema } from "../../shared/agent-protocol.ts";

/**
 * Before its welcome the agent takes only an `error` as its hello's refusal: a live update that a
 * gateway fanned out while it prepared the welcome (seen on PostgreSQL with two instances: the
 * technicians list) is passed over, not taken for a refusal that ends the agent.
 */
t.test("before the welcome: an error refuses the hello, a live update is passed over", async (t) => {
  const decode = (message: unknown) => gatewayToAgentSchema.parse(message);
  t.equal(helloStep(decode({ type: "technicians", technicians: [] })), "ignore");
  t.equal(
    helloStep(decode({ type: "error", error: { code: "SESSION_NOT_FOUND", message: "no such session" } })),
    "refused",
  );
});
