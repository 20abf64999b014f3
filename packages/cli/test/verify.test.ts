/**
 * `--verify` on get and put, and `mirror --checksum`, against proftpd (which hashes) and vsftpd
 * (which cannot: the size is compared instead, and the CLI says so). Runs when
 * FTPLIB_REAL_SERVERS=1, in a directory of its own on each server, removed at the end.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RealServer, realServers } from "@ftplib/test-servers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "./run-cli.js";

const wanted = process.env.FTPLIB_REAL_SERVERS === "1";
const servers = realServers();
const proftpd = servers.find((s) => s.name === "proftpd");
const vsftpd = servers.find((s) => s.name === "vsftpd");
const DATA = randomBytes(200_000);
const DIR = `verify-cli-${process.pid}`;

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "ftplib-cli-verify-"));
  await writeFile(join(tmp, "data.bin"), DATA);
});
afterAll(async () => {
  if (tmp !== undefined) await rm(tmp, { recursive: true, force: true });
  for (const server of [proftpd, vsftpd])
    if (server) await rm(join(server.root, DIR), { recursive: true, force: true });
});

function url(server: RealServer, path: string): string {
  const e = server.endpoints.find((x) => x.family === 4 && x.tls !== "implicit")!;
  return `ftp://${encodeURIComponent(server.user)}:${encodeURIComponent(server.password)}@${e.host}:${e.port}/${path}`;
}

describe.runIf(wanted && proftpd !== undefined && vsftpd !== undefined)("ftplib --verify and --checksum", () => {
  it("put and get --verify: SHA-512 on proftpd; the size on vsftpd, said on stderr", async () => {
    const sha512 = createHash("sha512").update(DATA).digest("hex");
    const up = await runCli(["put", "--verify", "-v", join(tmp, "data.bin"), url(proftpd!, `${DIR}-up.bin`)]);
    expect(up.stderr).toContain(`verified ${DIR}-up.bin: SHA-512 ${sha512}`);
    expect(up.code).toBe(0);
    const down = await runCli(["get", "--verify", "-v", url(proftpd!, `${DIR}-up.bin`), join(tmp, "back.bin")]);
    expect(down.stderr).toContain(`SHA-512 ${sha512}`);
    expect(down.code).toBe(0);
    expect((await readFile(join(tmp, "back.bin"))).equals(DATA)).toBe(true);
    await runCli(["rm", url(proftpd!, `${DIR}-up.bin`)]);

    const plain = await runCli(["put", "--verify", join(tmp, "data.bin"), url(vsftpd!, `${DIR}-up.bin`)]);
    expect(plain.stderr).toContain("the server cannot hash files; verified the size only");
    expect(plain.code).toBe(0);
    const back = await runCli(["get", "--verify", url(vsftpd!, `${DIR}-up.bin`), join(tmp, "back2.bin")]);
    expect(back.stderr).toContain("verified the size only");
    expect(back.code).toBe(0);
    await runCli(["rm", url(vsftpd!, `${DIR}-up.bin`)]);
  });

  it("mirror --checksum transfers by content, not by time; falls back where the server cannot hash", async () => {
    // On the server: same.bin and changed.bin; here: same.bin with the same bytes but an old
    // time (a time comparison would fetch it again), changed.bin with other bytes of the same
    // size and a newer time (a time comparison would keep it).
    const remote = join(proftpd!.root, DIR);
    await mkdir(remote, { recursive: true });
    await writeFile(join(remote, "same.bin"), DATA);
    await writeFile(join(remote, "changed.bin"), DATA);
    const local = join(tmp, "mirror");
    await mkdir(local);
    await writeFile(join(local, "same.bin"), DATA);
    await writeFile(join(local, "changed.bin"), randomBytes(DATA.length));
    await utimes(join(local, "same.bin"), new Date(0), new Date(0));
    await utimes(join(local, "changed.bin"), new Date(), new Date(Date.now() + 3_600_000));

    const byTime = await runCli(["mirror", "-n", url(proftpd!, DIR), local]);
    expect(byTime.stdout).toBe(`get same.bin ${DATA.length}\n`);
    const result = await runCli(["mirror", "--checksum", "--json", url(proftpd!, DIR), local]);
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout) as { transferred: string[]; unchanged: number };
    expect(summary.transferred).toEqual(["changed.bin"]);
    expect(summary.unchanged).toBe(1);
    expect((await readFile(join(local, "changed.bin"))).equals(DATA)).toBe(true);

    // Upward, the same rule: nothing differs now.
    const up = await runCli(["mirror", "-n", "--checksum", local, url(proftpd!, DIR)]);
    expect(up.stdout).toBe("");

    await mkdir(join(vsftpd!.root, DIR), { recursive: true });
    await writeFile(join(vsftpd!.root, DIR, "same.bin"), DATA);
    const fallback = await runCli(["mirror", "-n", "--checksum", url(vsftpd!, DIR), local]);
    expect(fallback.stderr).toContain("--checksum: the server cannot hash files; comparing size and time instead");
    expect(fallback.code).toBe(0);
  });
});
