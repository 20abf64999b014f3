/**
 * `main` called more than once in one process, as a program that embeds the command line would:
 * each run reads its own --ca file and prints its own --insecure warning.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { type EmbeddedServer, startEmbeddedServer, testTls } from "@ftplib/test-servers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "./run.js";

let server: EmbeddedServer;
let tmp: string;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "ftplib-cli-run-"));
  server = await startEmbeddedServer("127.0.0.1", { tls: { key: testTls.key, cert: testTls.cert } });
});

afterAll(async () => {
  await server?.close();
  if (tmp !== undefined) await rm(tmp, { recursive: true, force: true });
});

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = "";
  let err = "";
  stdout.on("data", (b: Buffer) => (out += b.toString()));
  stderr.on("data", (b: Buffer) => (err += b.toString()));
  const code = await main(argv, { stdin: new PassThrough(), stdout, stderr, env: {} });
  return { code, stdout: out, stderr: err };
}

describe("main, run twice in one process", () => {
  it("reads each run's --ca file and warns about --insecure in each run", async () => {
    const url = `ftpes://${server.user}:${server.password}@127.0.0.1:${server.port}/`;
    const ca = join(tmp, "ca.pem");
    await writeFile(ca, testTls.ca);
    expect((await run(["--ca", ca, "ls", url])).code).toBe(0);
    // The same path, now another certificate authority: the second run must not trust the first's.
    await writeFile(ca, testTls.untrusted.cert);
    expect((await run(["--ca", ca, "ls", url])).code).toBe(4);
    for (let i = 0; i < 2; i++) {
      const insecure = await run(["--insecure", "ls", url]);
      expect(insecure.code).toBe(0);
      expect(insecure.stderr).toMatch(/WARNING: --insecure/);
    }
  });
});
