/**
 * ReplayTransport on its own terms: a client that strays from the transcript fails with the line,
 * what was expected and what it did; sessions with aborts, resets and refused connections,
 * recorded from hostile servers, replay to the same outcome.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEmbeddedServer } from "@ftplib/test-servers";
import { ErrorPerm, ErrorTemp, FTP, FtpConnectionError } from "@ftplib/client";
import { afterEach, describe, expect, it } from "vitest";
import {
  type HostileServer,
  RecordingTransport,
  ReplayTransport,
  type Scenario,
  TranscriptMismatchError,
  closedPort,
  epsvReply,
  sendData,
  startHostileServer,
} from "@ftplib/testing";
import { createHash } from "node:crypto";
import { corpusFile } from "./corpus.js";

const sha256 = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");

const BROWSE = corpusFile("ftp-srv", "browse");

/** The 1-based line of the first line of `file` that is exactly `text`. */
async function lineOf(file: string, text: string): Promise<number> {
  const lines = (await readFile(file, "utf8")).split("\n");
  const index = lines.indexOf(text);
  expect(index).toBeGreaterThanOrEqual(0);
  return index + 1;
}

async function replayClient(replay: ReplayTransport): Promise<FTP> {
  const ftp = new FTP({ transport: replay, timeout: 2000 });
  await ftp.connect("127.0.0.1", 21);
  await ftp.login("ftplib", "whatever");
  return ftp;
}

describe("record once, replay in every run (the README's flow)", () => {
  it("a session against ftp-srv, saved and replayed with no server", async () => {
    const server = await startEmbeddedServer("127.0.0.1");
    const dir = await mkdtemp(join(tmpdir(), "ftplib-replay-"));
    try {
      await writeFile(join(server.root, "a.txt"), "a");
      await writeFile(join(server.root, "b.txt"), "b");
      const recording = new RecordingTransport();
      const options = { host: server.host, port: server.port, user: server.user, password: server.password };
      const live = await FTP.open({ ...options, transport: recording });
      const listed = await live.nlst();
      await live.quit();
      const file = join(dir, "nlst.txt");
      await recording.save(file);
      await server.close();

      const replay = await ReplayTransport.fromFile(file);
      const ftp = await FTP.open({ ...options, password: "any", transport: replay });
      expect(await ftp.nlst()).toEqual(listed);
      expect(listed.sort()).toEqual(["a.txt", "b.txt"]);
      await ftp.quit();
      replay.assertComplete();
    } finally {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("a client that strays from the transcript", () => {
  it("fails at the first different step, with the line, what was expected and what was sent", async () => {
    const replay = await ReplayTransport.fromFile(BROWSE);
    const ftp = await replayClient(replay);
    expect(await ftp.pwd()).toBe("/");
    const error = await ftp.cwd("somewhere/else").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TranscriptMismatchError);
    const mismatch = error as TranscriptMismatchError;
    expect(mismatch.line).toBe(await lineOf(BROWSE, "> CWD transcripts-work/fixture"));
    expect(mismatch.expected).toBe("> CWD transcripts-work/fixture");
    expect(mismatch.actual).toBe("> CWD somewhere/else");
    expect(mismatch.message).toBe(
      `ftp-srv.browse.txt:${mismatch.line}: the client did not follow the transcript\n` +
        "  expected: > CWD transcripts-work/fixture\n" +
        "  the client: > CWD somewhere/else",
    );
    expect(replay.failure).toBe(mismatch);
    // The session is over: later calls fail too, and assertComplete reports the same difference.
    await expect(ftp.pwd()).rejects.toBeInstanceOf(Error);
    expect(() => replay.assertComplete()).toThrow(mismatch);
  });

  it("a client that stops early: assertComplete names the first step it never took", async () => {
    const replay = await ReplayTransport.fromFile(BROWSE);
    const ftp = await replayClient(replay);
    await ftp.pwd();
    ftp.close();
    const error = (() => {
      try {
        replay.assertComplete();
      } catch (e) {
        return e as TranscriptMismatchError;
      }
    })();
    expect(error?.line).toBe(await lineOf(BROWSE, "> CWD transcripts-work/fixture"));
    expect(error?.actual).toBe("nothing more");
  });

  it("a command after the end of the transcript", async () => {
    const replay = new ReplayTransport("ftplib-transcript 1\nconnect ipv4\n< 220 hi\n> NOOP\n< 200 ok\n", {
      source: "short",
    });
    const ftp = new FTP({ transport: replay });
    await ftp.connect("127.0.0.1");
    await ftp.voidCmd("NOOP");
    const error = (await ftp.voidCmd("HELP").catch((e: unknown) => e)) as TranscriptMismatchError;
    expect(error).toBeInstanceOf(TranscriptMismatchError);
    expect(error.message).toBe(
      "short:6: the client did not follow the transcript\n  expected: nothing more on control\n  the client: > HELP",
    );
  });

  it("a command written in pieces that split a character matches the line recorded whole", async () => {
    const replay = new ReplayTransport("ftplib-transcript 1\nconnect ipv4\n< 220 hi\n> CWD café\n< 250 ok\n", {
      source: "split",
    });
    const control = await replay.connect({ host: "127.0.0.1", port: 21 });
    const text = async () => new TextDecoder().decode((await control.read())!);
    expect(await text()).toBe("220 hi\r\n");
    const bytes = new TextEncoder().encode("CWD café\r\n");
    const cut = bytes.indexOf(0xc3) + 1; // between the two bytes of "é"
    await control.write(bytes.subarray(0, cut));
    await control.write(bytes.subarray(cut));
    expect(await text()).toBe("250 ok\r\n");
    replay.assertComplete();
  });

  it("a client waiting for a reply where the transcript waits for a command", async () => {
    const replay = new ReplayTransport("ftplib-transcript 1\nconnect ipv4\n< 220 hi\n> NOOP\n< 200 ok\n", {
      source: "wait",
      stallTimeout: 200,
    });
    const control = await replay.connect({ host: "127.0.0.1", port: 21 });
    control.setTimeout(1000);
    await control.read();
    const error = (await control.read().catch((e: unknown) => e)) as TranscriptMismatchError;
    expect(error).toBeInstanceOf(TranscriptMismatchError);
    expect(error.line).toBe(4);
    expect(error.expected).toBe("> NOOP (before line 5: < 200 ok)");
    expect(error.actual).toBe("waits for the server on control");
  });

  it("an upload with different bytes fails at the data line, with the offset", async () => {
    const transcript = [
      "ftplib-transcript 1",
      "connect ipv4",
      "< 220 hi",
      "> USER me",
      "< 230 in",
      "> TYPE I",
      "< 200 binary",
      "> EPSV",
      "< 229 ok (|||{port}|)",
      "data 1 connect 127.0.0.1 {port}",
      "> STOR x",
      "< 150 go",
      "data 1 send text lf 1 lines",
      "| hello",
      "data 1 end",
      "< 226 stored",
      "",
    ].join("\n");
    const upload = async (content: string) => {
      const replay = new ReplayTransport(transcript, { source: "upload" });
      const ftp = new FTP({ transport: replay });
      await ftp.connect("127.0.0.1");
      await ftp.login("me");
      const result = await ftp.storBinary("STOR x", new TextEncoder().encode(content)).catch((e: unknown) => e);
      ftp.close();
      return { result, replay };
    };
    const good = await upload("hello\n");
    expect(good.result).toBe("226 stored");
    good.replay.assertComplete();
    const { result } = await upload("hallo\n");
    expect(result).toBeInstanceOf(TranscriptMismatchError);
    expect(result).toMatchObject({
      line: 13,
      expected: "data 1 send text lf 1 lines",
      actual: "data 1 send: different bytes from offset 1",
    });
    const short = await upload("hell");
    expect(short.result).toMatchObject({ line: 13, actual: "ended after 4 bytes" });
  });

  it("passwords are masked: any password matches, the user must not differ", async () => {
    const replay = await ReplayTransport.fromFile(BROWSE);
    const ftp = new FTP({ transport: replay });
    await ftp.connect("127.0.0.1");
    const error = (await ftp.login("someone-else", "x").catch((e: unknown) => e)) as TranscriptMismatchError;
    expect(error.expected).toBe("> USER ftplib");
    expect(error.actual).toBe("> USER someone-else");
  });
});

describe("hostile sessions, recorded and replayed to the same outcome", () => {
  const servers: HostileServer[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.close();
  });

  /** Records `session` against a hostile server, replays it, and returns both outcomes and the text. */
  async function roundTrip(
    scenario: Scenario,
    session: (ftp: FTP) => Promise<unknown>,
    options: { inlineLimit?: number; blobs?: Uint8Array[] } = {},
  ) {
    const server = await startHostileServer(scenario);
    servers.push(server);
    const outcome = (promise: Promise<unknown>) =>
      promise.then(
        (value) => ({ value, error: undefined as unknown }),
        (error: unknown) => ({ value: undefined as unknown, error }),
      );
    const recording = new RecordingTransport({ inlineLimit: options.inlineLimit });
    const live = new FTP({ transport: recording, timeout: 2000 });
    await live.connect(server.host, server.port);
    await live.login("me", "secret");
    const recorded = await outcome(session(live));
    live.close();
    const text = recording.text();
    const blobs = new Map((options.blobs ?? []).map((blob) => [sha256(blob), blob]));
    const replay = new ReplayTransport(text, { source: "hostile", blobs: (digest) => blobs.get(digest) });
    const ftp = new FTP({ transport: replay, timeout: 2000 });
    await ftp.connect(server.host, server.port);
    await ftp.login("me", "secret");
    const replayed = await outcome(session(ftp));
    ftp.close();
    expect(replay.failure).toBeUndefined();
    return { recorded, replayed, text, replay };
  }

  it("a final 4xx reply after data", async () => {
    const { recorded, replayed, text } = await roundTrip(
      { RETR: sendData("partial", { final: "451 disk trouble" }) },
      (ftp) => ftp.retrBinary("RETR x", () => undefined),
    );
    expect(ErrorTemp.isInstance(recorded.error)).toBe(true);
    expect(ErrorTemp.isInstance(replayed.error)).toBe(true);
    expect((replayed.error as ErrorTemp).text).toBe("451 disk trouble");
    expect(text).toContain("< 451 disk trouble");
  });

  it("a passive port where nothing listens", async () => {
    const port = await closedPort();
    const { recorded, replayed, text, replay } = await roundTrip({ EPSV: epsvReply(port) }, (ftp) => ftp.nlst());
    expect(FtpConnectionError.isInstance(recorded.error)).toBe(true);
    expect(FtpConnectionError.isInstance(replayed.error)).toBe(true);
    expect((replayed.error as FtpConnectionError).code).toBe((recorded.error as FtpConnectionError).code);
    expect(text).toMatch(/^data 1 error FtpConnectionError ECONNREFUSED data connection to 127\.0\.0\.1:\{port\}: /m);
    replay.assertComplete();
  });

  it("a data connection reset midway: the same error, never a whole file", async () => {
    const data = Buffer.alloc(50_000, 1);
    const { recorded, replayed, text } = await roundTrip(
      { RETR: sendData(data, { cutAfter: 20_000, reset: true, final: "426 connection closed" }) },
      async (ftp) => {
        let received = 0;
        await ftp.retrBinary("RETR x", (b) => void (received += b.length));
        return received;
      },
      { blobs: [data.subarray(0, 20_000)] },
    );
    expect(recorded.error).toBeInstanceOf(Error);
    expect((replayed.error as Error).name).toBe((recorded.error as Error).name);
    expect(text).toMatch(/^< 426 connection closed$/m);
  });

  it("an abort during a download (ABOR, its two replies matched: no marker needed)", async () => {
    const big = Buffer.alloc(200_000, 2);
    const scenario: Scenario = {
      RETR: async (session) => {
        await session.send("150 here it comes\r\n");
        const socket = await session.data();
        socket.write(big.subarray(0, 10_000));
        await session.until("ABOR");
        socket.destroy();
        await session.send("426 transfer aborted\r\n226 ABOR successful\r\n");
      },
    };
    const { recorded, replayed, text, replay } = await roundTrip(
      scenario,
      async (ftp) => {
        let aborting: Promise<string> | undefined;
        await ftp
          .retrBinary("RETR big", () => {
            aborting ??= ftp.abort();
          })
          .catch(() => undefined);
        return aborting;
      },
      { inlineLimit: 1_000_000 },
    );
    expect(recorded.error).toBeUndefined();
    expect(replayed.value).toBe(recorded.value);
    expect(text).toMatch(/^> ABOR\n/m);
    expect(text).not.toMatch(/^> NOOP$/m);
    expect(text.match(/^data 1 eof$/gm)).toHaveLength(1);
    replay.assertComplete();
  });

  it("an error reply to a command", async () => {
    const { replayed } = await roundTrip({ DELE: "550 not yours" }, (ftp) => ftp.delete("x"));
    expect(ErrorPerm.isInstance(replayed.error)).toBe(true);
  });
});
