/**
 * Lets plain Node run the simulated agent (lab/cilium-sim/agent.ts) from
 * source: Node strips the types itself, and this hook resolves the
 * project's extensionless relative imports ('./render') to their .ts file.
 * Without tsx the agent starts faster and leaves no esbuild helper process
 * in the lab namespace.
 *
 *   node --import ./lab/cilium-sim/resolve-ts.ts lab/cilium-sim/agent.ts ...
 */
import { registerHooks } from 'node:module';

registerHooks({
  resolve(specifier, context, nextResolve) {
    if (/^\.\.?\//.test(specifier) && !/\.[cm]?[jt]s$/.test(specifier)) {
      try {
        return nextResolve(`${specifier}.ts`, context);
      } catch {
        // not a .ts file: let Node report the original specifier
      }
    }
    return nextResolve(specifier, context);
  },
});
