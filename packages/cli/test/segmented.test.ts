/**
 * `ftplib get -n N` and `mirror --segments N` against the Debian servers: one file over several
 * connections (ABOR stops a segment on vsftpd, RANG on proftpd), resume of a part file, stdout and
 * small files as one stream, and the usage errors. Runs when FTPLIB_REAL_SERVERS=1.
 */
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RealServer, realServers } from "@ftplib/test-servers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, sha256 } from "./run-cli.js";

const wanted = process.env.FTPLIB_REAL_SERVERS === "1";
const MiB = 1 << 20;
const BIG = randomBytes(9 * MiB + 321);
const SMALL = randomBytes(1000);
const dir = `ftplib-cli-seg-${process.pid}`;
const servers = realServers().filter((s) => ["vsftpd", "proftpd"].includes(s.name));

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "ftplib-cli-seg-"));
  for (const server of servers) {
    await mkdir(join(server.root, dir, "tree"), { recursive: true, mode: 0o777 });
    await writeFile(join(server.root, dir, "tree", "big.bin"), BIG, { mode: 0o644 });
    await writeFile(join(server.root, dir, "tree", "small.bin"), SMALL, { mode: 0o644 });
  }
});
afterAll(async () => {
  if (tmp !== undefined) await rm(tmp, { recursive: true, force: true });
  for (const server of servers) await rm(join(server.root, dir), { recursive: true, force: true });
});

function base(server: RealServer): string {
  const e = server.endpoints.find((x) => x.family === 4 && x.tls !== "implicit")!;
  return `ftp://${encodeURIComponent(server.user)}:${encodeURIComponent(server.password)}@${e.host}:${e.port}/${dir}`;
}

/** The commands sent, from --debug's lines on stderr. */
const sent = (stderr: string, verb: string) => stderr.split("\n").filter((l) => l.startsWith(`*cmd* "${verb}`));

describe.runIf(wanted)("ftplib get -n and mirror --segments", () => {
  it("has vsftpd or proftpd running", () => {
    expect(servers.length).toBeGreaterThan(0);
  });

  for (const server of servers) {
    describe(server.name, () => {
      it("get -n 4: one file over four connections", async () => {
        const local = join(tmp, `${server.name}-big.bin`);
        const result = await runCli(["--debug", "get", "-n", "4", `${base(server)}/tree/big.bin`, local]);
        expect(result.code, result.stderr).toBe(0);
        expect(sha256(await readFile(local))).toBe(sha256(BIG));
        expect(sent(result.stderr, "RETR")).toHaveLength(4);
        expect(sent(result.stderr, server.name === "proftpd" ? "RANG" : "ABOR")).toHaveLength(
          server.name === "proftpd" ? 4 : 3,
        );
        expect(result.stderr).not.toContain(server.password);
      });

      it("get -c -n 4 continues a part file; stdout and small files take one stream", async () => {
        const local = join(tmp, `${server.name}-resumed.bin`);
        await writeFile(`${local}.part`, BIG.subarray(0, 3 * MiB));
        const resumed = await runCli(["get", "-c", "-n", "4", `${base(server)}/tree/big.bin`, local]);
        expect(resumed.code, resumed.stderr).toBe(0);
        expect(sha256(await readFile(local))).toBe(sha256(BIG));
        const piped = await runCli(["--debug", "get", "-n", "4", `${base(server)}/tree/big.bin`, "-"]);
        expect(sha256(piped.stdoutBytes)).toBe(sha256(BIG));
        expect(sent(piped.stderr, "RETR")).toHaveLength(1);
        const small = join(tmp, `${server.name}-small.bin`);
        const one = await runCli(["--debug", "get", "-n", "4", `${base(server)}/tree/small.bin`, small]);
        expect(sha256(await readFile(small))).toBe(sha256(SMALL));
        expect(sent(one.stderr, "RETR")).toHaveLength(1);
      });

      it("mirror --segments 3: big files split, small ones whole", async () => {
        const local = join(tmp, `${server.name}-mirror`);
        const result = await runCli(["--debug", "mirror", "-j", "3", "--segments", "3", `${base(server)}/tree`, local]);
        expect(result.code, result.stderr).toBe(0);
        expect(sha256(await readFile(join(local, "big.bin")))).toBe(sha256(BIG));
        expect(sha256(await readFile(join(local, "small.bin")))).toBe(sha256(SMALL));
        // 9 MiB: three segments; 1000 bytes: one stream.
        expect(sent(result.stderr, "RETR")).toHaveLength(4);
        // The listing gave the sizes: no SIZE for either file.
        expect(sent(result.stderr, "SIZE")).toEqual([]);
      });
    });
  }

  it("refuses -n 0, -n 17 and --segments x", async () => {
    for (const args of [
      ["get", "-n", "0", "ftp://127.0.0.1:1/f"],
      ["get", "-n", "17", "ftp://127.0.0.1:1/f"],
      ["mirror", "--segments", "x", "ftp://127.0.0.1:1/d", "d"],
    ]) {
      const result = await runCli(args, { cwd: tmp });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/--segments must be a whole number from 1 to 16/);
    }
  });
});
