// Shared tsup settings: each package's library build, imported by its tsup.config.ts.
import type { Options } from "tsup";

/** src/index.ts built for Node 20 as ESM and CommonJS, with declarations and source maps. */
export function libraryBuild(overrides: Options = {}): Options {
  return {
    entry: ["src/index.ts"],
    format: ["esm", "cjs"],
    dts: true,
    sourcemap: true,
    clean: true,
    target: "node20",
    platform: "node",
    ...overrides,
  };
}
