/**
 * The package must run anywhere: bundled for esbuild's neutral platform with nothing external, it
 * must build, and the bundle must mention no Node module, Buffer, process or require.
 */
import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const entry = fileURLToPath(new URL("../src/index.ts", import.meta.url));

async function bundle(minify: boolean): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    platform: "neutral",
    format: "esm",
    target: "es2022",
    minify,
    write: false,
    logLevel: "silent",
  });
  return result.outputFiles[0]!.text;
}

describe("@ftplib/protocol is platform-neutral", () => {
  it("bundles for the neutral platform with no externals", async () => {
    const code = await bundle(false);
    expect(code).not.toMatch(/\bfrom\s*["']node:|require\(|\bBuffer\b|\bprocess\.|\bsetTimeout\b|\bsetInterval\b/);
  });

  it("stays small when minified", async () => {
    const code = await bundle(true);
    // The budget leaves room to grow; the closing note reports the measured size.
    expect(code.length).toBeLessThan(24 * 1024);
    console.log(`minified bundle: ${code.length} bytes`);
  });
});
