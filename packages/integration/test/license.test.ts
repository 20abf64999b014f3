/** Every published package carries the license its package.json names, in its tarball. */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const license = readFileSync(`${root}LICENSE`, "utf8");

describe("LICENSE", () => {
  it("is MIT at the root", () => {
    expect(license).toMatch(/^MIT License\n/);
  });

  it.each(["protocol", "transport", "client", "testing", "cli"])("@ftplib/%s ships the same text", (name) => {
    const dir = `${root}packages/${name}/`;
    const manifest = JSON.parse(readFileSync(`${dir}package.json`, "utf8")) as { license: string; files: string[] };
    expect(manifest.license).toBe("MIT");
    expect(manifest.files).toContain("LICENSE");
    expect(readFileSync(`${dir}LICENSE`, "utf8")).toBe(license);
  });
});
