/**
 * The blocks a retrBinary callback is handed stay what they were after the callback returns
 * (ftplib code keeps them: `received.append(block)`), unless `zeroCopy` asks for views of the
 * transport's read buffer.
 */
import { FTP } from "@ftplib/client";
import { describe, expect, it } from "vitest";
import { patternBytes, sendData, startHostileServer } from "@ftplib/testing";

const FILE = Buffer.from(patternBytes(480_000));

describe("retrBinary blocks", () => {
  it("stay valid after the callback: the kept blocks are the file", async () => {
    await using server = await startHostileServer({ RETR: sendData(FILE, { pieceSize: 8192 }) });
    const ftp = await FTP.open({ host: server.host, port: server.port, user: "u", password: "p", timeout: 5000 });
    for (const blocksize of [0, 1000]) {
      const kept: Uint8Array[] = [];
      await ftp.retrBinary("RETR f", (block) => void kept.push(block), { blocksize });
      expect(kept.length).toBeGreaterThan(1);
      expect(Buffer.compare(Buffer.concat(kept), FILE)).toBe(0);
    }
    await ftp.quit();
  });

  it("with zeroCopy are views of one reused buffer, valid until the callback settles", async () => {
    await using server = await startHostileServer({ RETR: sendData(FILE, { pieceSize: 8192 }) });
    const ftp = await FTP.open({ host: server.host, port: server.port, user: "u", password: "p", timeout: 5000 });
    const copies: Buffer[] = [];
    const buffers = new Set<ArrayBufferLike>();
    await ftp.retrBinary(
      "RETR f",
      (block) => {
        copies.push(Buffer.from(block));
        buffers.add(block.buffer);
      },
      { zeroCopy: true },
    );
    expect(Buffer.compare(Buffer.concat(copies), FILE)).toBe(0);
    expect(buffers.size).toBeLessThan(copies.length);
    await ftp.quit();
  });
});
