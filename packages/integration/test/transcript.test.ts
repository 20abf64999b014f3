/**
 * The transcript format over what the client really sends: the recorded corpus reads back to the
 * same text, and a session recorded with timing and passwords replays at its pace.
 */
import { readFile } from "node:fs/promises";
import { FTP } from "@ftplib/client";
import {
  RecordingTransport,
  ReplayTransport,
  formatTranscript,
  parseTranscript,
  sendData,
  startHostileServer,
} from "@ftplib/testing";
import { describe, expect, it } from "vitest";
import { corpusFiles } from "./corpus.js";

describe("reading and writing", () => {
  it("every transcript of the corpus reads back to the same text", async () => {
    for (const [, , path] of await corpusFiles()) {
      const text = await readFile(path, "utf8");
      expect(formatTranscript(parseTranscript(text, path))).toBe(text);
    }
  });
});

describe("normalisation", () => {
  it("records timing and passwords when asked, and replays at the recorded pace", async () => {
    await using server = await startHostileServer({
      NLST: async (session) => {
        await new Promise((r) => setTimeout(r, 150));
        return sendData("x\r\n")(session, "", "NLST");
      },
    });
    const recording = new RecordingTransport({ timing: true, showPasswords: true });
    const ftp = new FTP({ transport: recording });
    await ftp.connect(server.host, server.port);
    await ftp.login("me", "secret");
    expect(await ftp.nlst()).toEqual(["x"]);
    ftp.close();
    const text = recording.text();
    expect(text).toMatch(/^\+\d+ms > PASS secret$/m);
    const wait = Number(/^\+(\d+)ms < 150 /m.exec(text)?.[1]);
    expect(wait).toBeGreaterThanOrEqual(100);
    const replay = new ReplayTransport(text, { pace: true });
    const again = new FTP({ transport: replay });
    await again.connect("127.0.0.1");
    await again.login("me", "secret");
    const started = Date.now();
    expect(await again.nlst()).toEqual(["x"]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(wait - 20);
    again.close();
  });
});
