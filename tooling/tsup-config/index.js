// Shared tsup settings: each package's library build, imported by its tsup.config.ts.

/**
 * src/index.ts built for Node 20 as ESM and CommonJS, with declarations and source maps.
 * @param {import("tsup").Options} [overrides] settings that replace the defaults
 * @returns {import("tsup").Options}
 */
export function libraryBuild(overrides = {}) {
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
