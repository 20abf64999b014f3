import { readFileSync } from "node:fs";
import { defineConfig } from "tsup";
import { libraryBuild } from "@ftplib/tsup-config";

const { version } = JSON.parse(readFileSync("package.json", "utf8")) as { version: string };
const define = { __VERSION__: JSON.stringify(version) };

export default defineConfig([
  libraryBuild({ define }),
  {
    // The binary: one ESM file with its shebang; the workspace packages stay imports.
    entry: ["src/bin.ts"],
    format: ["esm"],
    sourcemap: true,
    target: "node20",
    platform: "node",
    banner: { js: "#!/usr/bin/env node" },
    define,
  },
]);
