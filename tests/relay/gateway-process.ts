/**
 * The real gateway (signaling/main.ts) as a process of its own, with test-only options the command
 * line does not offer (GatewayOptions, e.g. a TURN credential lifetime below `--turn-ttl`'s floor),
 * for tests that need it inside a network namespace. Arguments: the config (GatewayConfigInput) and
 * the options as JSON. Prints the CLI's ready line; SIGTERM stops it.
 *
 *   node tests/relay/gateway-process.ts '{"port":8082,...}' '{"turnTtlSeconds":12}'
 */
import type { GatewayConfigInput } from "../../signaling/config.ts";
import { type GatewayOptions, startGateway } from "../../signaling/main.ts";

const [config = "{}", options = "{}"] = process.argv.slice(2);
const gateway = await startGateway(
  JSON.parse(config) as GatewayConfigInput,
  JSON.parse(options) as GatewayOptions,
);
process.stdout.write(`SOS gateway ready. Console: ${gateway.publicUrl}/ (listening on ${gateway.url})\n`);
process.once("SIGTERM", () => {
  void gateway.close().then(() => process.exit(0));
});
