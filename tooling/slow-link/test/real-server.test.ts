/**
 * The link in front of vsftpd, used by this project's client: passive replies rewritten end to
 * end (EPSV, and PASV with `epsv: false`), files identical both ways, and the counts the bench
 * reports. Skipped when vsftpd is not running (servers/servers.sh start vsftpd).
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FTP } from "@ftplib/client";
import { realServers } from "@ftplib/test-servers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SlowLink } from "../index.js";

const vsftpd = realServers().find((s) => s.name === "vsftpd");
const endpoint = vsftpd?.endpoints.find((e) => e.family === 4 && e.tls === "explicit");

describe.skipIf(endpoint === undefined)("the slow link in front of vsftpd", () => {
  let tmp: string;
  const dir = `slow-link-${process.pid}`;
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), "ftplib-slow-link-"));
  });
  afterAll(async () => {
    const ftp = await FTP.open({
      host: endpoint!.host,
      port: endpoint!.port,
      user: vsftpd!.user,
      password: vsftpd!.password,
    });
    await ftp.removeDir(dir).catch(() => undefined);
    ftp.close();
    await rm(tmp, { recursive: true, force: true });
  });

  it.each([true, false])(
    "uploads, lists and downloads through it (epsv: %s), and counts what that cost",
    async (epsv) => {
      const link = await SlowLink.start({ target: endpoint!, delayMs: 10, rate: 4_000_000 });
      try {
        const ftp = await FTP.open({
          host: link.host,
          port: link.port,
          user: vsftpd!.user,
          password: vsftpd!.password,
          epsv,
        });
        const data = randomBytes(512 * 1024);
        const local = join(tmp, `up-${epsv}.bin`);
        await writeFile(local, data);
        const remote = `${dir}/file-${epsv}.bin`;
        await ftp.mkd(dir).catch(() => undefined);
        const before = link.stats();
        const started = performance.now();
        await ftp.voidCmd("NOOP");
        expect(performance.now() - started).toBeGreaterThanOrEqual(19);
        expect(link.stats().commandRoundTrips - before.commandRoundTrips).toBe(1);

        await ftp.upload(local, remote);
        expect((await ftp.nlst(dir)).map((n) => n.split("/").pop())).toContain(`file-${epsv}.bin`);
        const back = join(tmp, `down-${epsv}.bin`);
        await ftp.download(remote, back);
        expect((await readFile(back)).equals(data)).toBe(true);
        ftp.close();

        const stats = link.stats();
        expect(stats.controlConnections).toBe(1);
        expect(stats.dataConnections).toBe(3); // STOR, NLST, RETR
        expect(stats.verbs[epsv ? "EPSV" : "PASV"]).toBe(3);
        expect(stats.verbs.RETR).toBe(1);
        expect(stats.roundTrips).toBe(stats.commandRoundTrips + 3);
      } finally {
        await link.close();
      }
    },
  );
});
