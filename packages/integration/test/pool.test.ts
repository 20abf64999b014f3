/**
 * downloadDir against a hostile listing: names that leave the target directory are refused, and
 * nothing is written outside it. (The pool's other tests are in packages/client/test/pool.test.ts.)
 */
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ErrorProto, FTP } from "@ftplib/client";
import { startHostileServer } from "@ftplib/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { greetAndLogin, passiveTransfer } from "./scripts.js";

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "ftplib-pool-"));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe("downloadDir against a hostile listing", () => {
  for (const evil of ["../../escape.txt", "a/../../b", "sub\\..\\x", "C:evil"]) {
    it(`refuses ${JSON.stringify(evil)} and writes nothing outside`, async () => {
      const hostile = await startHostileServer(async (session) => {
        await greetAndLogin(session);
        await session.until("FEAT");
        await session.send("211 no features\r\n");
        // Twice: downloadDir, then walk.
        for (let i = 0; i < 2; i++) {
          const { data } = await passiveTransfer(session, "LIST");
          await session.send("150 here\r\n");
          (await data()).end(`-rw-r--r-- 1 a b 4 Jan 3 2020 ${evil}\r\n`);
          await session.send("226 done\r\n");
        }
      });
      const target = join(tmp, "hostile", "inner");
      const ftp = await FTP.open({ host: hostile.host, port: hostile.port, timeout: 2000 });
      const error = await ftp.downloadDir("/", target).catch((e: unknown) => e);
      expect(ErrorProto.isInstance(error), String(error)).toBe(true);
      expect((error as ErrorProto).code).toBe("ERR_FTP_UNSAFE_NAME");
      const walked = await ftp.walk("/").catch((e: unknown) => e);
      expect((walked as ErrorProto).code).toBe("ERR_FTP_UNSAFE_NAME");
      expect(await readdir(join(tmp, "hostile"))).toEqual(["inner"]);
      expect(await readdir(target)).toEqual([]);
      ftp.close();
      await hostile.close();
    });
  }
});
