/**
 * Every checked-in transcript replayed through the client, with no network: the client must do
 * exactly what it did against the real server, and come to the same results.
 */
import { describe, expect, it } from "vitest";
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
