/**
 * Every checked-in transcript replayed through the client, with no network: the client must do
 * exactly what it did against the real server, and come to the same results.
 */
import { readFile } from "node:fs/promises";
import { FTP, FTP_TLS } from "@ftplib/client";
import { describe, expect, it } from "vitest";
import { ReplayTransport, TranscriptMismatchError } from "@ftplib/testing";
import { corpusFiles, replayScenario } from "./corpus.js";

const files = await corpusFiles();

describe("the corpus replays", () => {
  it("has sessions from ftp-srv, vsftpd, pure-ftpd, proftpd and pyftpdlib", () => {
    const servers = new Set(files.map(([server]) => server));
    expect([...servers].sort()).toEqual(["ftp-srv", "proftpd", "pure-ftpd", "pyftpdlib", "vsftpd"]);
  });

  for (const [server, scenario, path] of files) {
    it(`${server}: ${scenario.name}`, async () => {
      const replay = await replayScenario(path, scenario);
      expect(replay.failure).toBeUndefined();
    });
  }
});

describe("a client that logs in as someone else strays from every transcript with a login", () => {
  for (const [server, scenario, path] of files.filter(([, s]) => s.name !== "tls-untrusted")) {
    it(`${server}: ${scenario.name}`, async () => {
      const text = await readFile(path, "utf8");
      const lines = text.split("\n");
      const userLine = lines.findIndex((line) => line.startsWith("> USER ")) + 1;
      const replay = await ReplayTransport.fromFile(path);
      const ftp =
        scenario.tls === "none"
          ? new FTP({ transport: replay })
          : new FTP_TLS({ transport: replay, implicit: scenario.tls === "implicit" });
      await ftp.connect(/^connect ipv6/m.test(text) ? "::1" : "127.0.0.1");
      const error = await ftp.login("intruder", "x").catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TranscriptMismatchError);
      expect(error).toMatchObject({ line: userLine, expected: lines[userLine - 1], actual: "> USER intruder" });
      ftp.close();
    });
  }
});
