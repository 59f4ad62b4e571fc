/**
 * The agent as the branded executable runs it: loaded by the bootstrap from the extraction folder
 * (an ES module required from CommonJS, so no top-level await anywhere in its graph).
 */
import { runAsProgram } from "../agent/cli.ts";

export function run(): void {
  runAsProgram();
}
