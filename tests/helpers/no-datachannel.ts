/**
 * Test-only: `node --import ./tests/helpers/no-datachannel.ts agent/cli.ts …` runs the agent as an
 * executable without node-datachannel runs (build/targets.ts ships the loader and its addon beside
 * the bundle; a darwin build, or one whose files were removed, has neither): importing
 * `node-datachannel` fails with ERR_MODULE_NOT_FOUND, as Node says for a package that is not there.
 * No product flag: the agent's own loadDataChannel() meets the failure and falls back to werift.
 */
import { registerHooks } from "node:module";

const MISSING = "node-datachannel";

registerHooks({
  resolve(specifier, context, nextResolve) {
    if (specifier === MISSING || specifier.startsWith(`${MISSING}/`)) {
      const error = new Error(
        `Cannot find package '${MISSING}' imported from ${context.parentURL ?? "the entry point"}`,
      );
      throw Object.assign(error, { code: "ERR_MODULE_NOT_FOUND" });
    }
    return nextResolve(specifier, context);
  },
});
