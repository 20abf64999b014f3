/**
 * Servers whose replies do not line up with the commands: ABOR answered late, out of order, with
 * 502 or not at all; NOOP refused; surplus and unsolicited replies. Whatever the server does,
 * every reply the client returns is the one its command got, abort() ends in bounded time, and
 * the session either stays usable or fails with a typed error.
 */
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type net from "node:net";
import { ErrorPerm, ErrorProto, FTP, FtpTimeoutError } from "@ftplib/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CommandHandlers, type HostileSession, patternBytes, startHostileServer } from "@ftplib/testing";

const TIMEOUT = 5000;
/** Sent slowly enough that a transfer is still under way when the client aborts it. */
const FILE = Buffer.from(patternBytes(4 << 20));

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "ftplib-replies-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Writes `FILE` in 16 KiB pieces, 5 ms apart, until done or the client closes the data connection. */
async function stream(data: net.Socket): Promise<"done" | "cut"> {
  let cut = false;
  data.once("close", () => (cut = true));
  data.on("error", () => undefined);
  for (let at = 0; at < FILE.length && !cut; at += 16384) {
    data.write(FILE.subarray(at, at + 16384));
    await delay(5);
  }
  if (cut) return "cut";
  await new Promise<void>((resolve) => data.end(() => resolve()));
  return "done";
}

/** Answers with the usual replies, and PWD with the directory a CWD set. */
function withDirectories(handlers: CommandHandlers): CommandHandlers {
  let cwd = "/";
  return {
    CWD: (_s, argument) => ((cwd = argument.startsWith("/") ? argument : `/${argument}`), "250 directory changed"),
    PWD: () => `257 "${cwd}" is the current directory`,
    SIZE: (_s, argument) => (argument === "missing" ? "550 no such file" : `213 ${FILE.length}`),
    ...handlers,
  };
}

/**
 * A server without ABOR, as nodeftpd: it answers ABOR with 502 and keeps streaming; the
 * transfer's 226 comes when its file is read, after the replies to what the client sent meanwhile.
 */
function noAbor(): CommandHandlers {
  return withDirectories({
    ABOR: "502 ABOR not implemented.",
    RETR: async (session) => {
      await session.send("150 Opening BINARY mode data connection\r\n");
      const data = await session.data();
      void stream(data).then(async () => {
        await delay(50);
        await session.send(`226 Closing data connection, sent ${FILE.length} bytes\r\n`);
      });
    },
  });
}

/**
 * A server that answers commands while a transfer runs and refuses NOOP, as aioftp: NOOP gets
 * 502 at once; ABOR stops the transfer, whose worker then sends 426 and, a moment later, 226.
 */
function refusesNoop(gap: number): CommandHandlers {
  let stop: (() => void) | undefined;
  return withDirectories({
    NOOP: "502 'noop' not implemented",
    ABOR: () => {
      if (stop === undefined) return "226 nothing to abort";
      stop();
    },
    RETR: async (session) => {
      await session.send("150 data transfer started\r\n");
      const data = await session.data();
      let stopped = false;
      stop = () => {
        stopped = true;
        stop = undefined;
        data.destroy();
        void (async () => {
          await session.send("426 transfer aborted\r\n");
          await delay(gap);
          await session.send("226 abort successful\r\n");
        })();
      };
      void stream(data).then(async (how) => {
        if (how === "done" && !stopped) {
          stop = undefined;
          await session.send("226 data transfer done\r\n");
        }
      });
    },
  });
}

/** A server that answers ABOR only after `late` ms, and the transfer with 426 at once. */
function lateAbor(late: number, order: "transfer-first" | "abort-first"): CommandHandlers {
  let data: net.Socket | undefined;
  return withDirectories({
    ABOR: async (session) => {
      data?.destroy();
      if (order === "abort-first") {
        await session.send("226 ABOR command successful\r\n");
        await delay(late);
        await session.send("426 Transfer aborted\r\n");
      } else {
        await session.send("426 Transfer aborted\r\n");
        await delay(late);
        await session.send("226 ABOR command successful\r\n");
      }
    },
    RETR: async (session) => {
      await session.send("150 go\r\n");
      data = await session.data();
      void stream(data);
    },
  });
}

async function client(server: { host: string; port: number }, timeout = TIMEOUT): Promise<FTP> {
  return FTP.open({ host: server.host, port: server.port, user: "u", password: "p", timeout });
}

/** Checks that every reply returned afterwards is its own command's. */
async function inStep(ftp: FTP): Promise<void> {
  expect(await ftp.cwd("/pub")).toMatch(/^250/);
  expect(await ftp.pwd()).toBe("/pub");
  expect(await ftp.size("f")).toBe(FILE.length);
  await expect(ftp.size("missing")).rejects.toBeInstanceOf(ErrorPerm);
  expect(await ftp.pwd()).toBe("/pub");
  expect(await ftp.quit()).toMatch(/^221/);
}

/** Aborts from the first block's callback; returns abort()'s result and the time it took. */
async function abortFromCallback(ftp: FTP): Promise<{ abort: string | Error; final: string | Error; ms: number }> {
  let aborted: Promise<string | Error> | undefined;
  const started = Date.now();
  const final = await ftp
    .retrBinary("RETR f", () => {
      aborted ??= ftp.abort().catch((error: Error) => error);
    })
    .catch((error: Error) => error);
  return { abort: await aborted!, final, ms: Date.now() - started };
}

describe("ABOR answered late, out of order or not at all", () => {
  it("a server without ABOR (502, then the transfer's 226): abort works, every reply stays in step", async () => {
    await using server = await startHostileServer(noAbor());
    const ftp = await client(server);
    const { abort, final, ms } = await abortFromCallback(ftp);
    expect(abort).toMatch(/^226/);
    expect(final).toMatch(/^226/);
    expect(ms).toBeLessThan(TIMEOUT);
    await inStep(ftp);
    // ABOR went out and nothing else until the transfer's reply: no NOOP for a server without ABOR.
    const afterAbor = server.commands.slice(server.commands.indexOf("ABOR") + 1);
    expect(afterAbor[0]).toBe("CWD /pub");
  });

  it("a download cancelled by an AbortSignal on a server without ABOR leaves no file, and the session in step", async () => {
    await using server = await startHostileServer(noAbor());
    const ftp = await client(server);
    const controller = new AbortController();
    const target = join(dir, "no-abor.bin");
    const download = ftp.download("f", target, { signal: controller.signal, onProgress: () => controller.abort() });
    await expect(download).rejects.toMatchObject({ name: "AbortError" });
    expect((await readdir(dir)).filter((name) => name.startsWith("no-abor"))).toEqual([]);
    await inStep(ftp);
  });

  it("a server that refuses NOOP and answers ABOR by its transfer (426, then 226): bounded, in step", async () => {
    for (const gap of [0, 200]) {
      await using server = await startHostileServer(refusesNoop(gap));
      const ftp = await client(server);
      const { abort, ms } = await abortFromCallback(ftp);
      expect(abort).toMatch(/^226/);
      expect(ms).toBeLessThan(2000);
      await inStep(ftp);
    }
  });

  it("ABOR answered late, after the transfer's 426, or before it: in step", async () => {
    for (const order of ["transfer-first", "abort-first"] as const) {
      await using server = await startHostileServer(lateAbor(300, order));
      const ftp = await client(server);
      const { abort, ms } = await abortFromCallback(ftp);
      expect(String(abort)).toMatch(/^(226|426)/);
      expect(ms).toBeLessThan(2000);
      await inStep(ftp);
    }
  });

  it("a transfer opened by transferCmd, and ABOR answered with the transfer's one reply (a NOOP marker ends it)", async () => {
    let data: net.Socket | undefined;
    await using server = await startHostileServer(
      withDirectories({
        ABOR: () => {
          data?.destroy();
          return "226 Abort successful";
        },
        RETR: async (session) => {
          await session.send("150 go\r\n");
          data = await session.data();
          void stream(data);
        },
      }),
    );
    const ftp = await client(server);
    const conn = await ftp.transferCmd("RETR f");
    expect(await conn.read()).not.toBeNull();
    const started = Date.now();
    expect(await ftp.abort()).toMatch(/^226/);
    expect(await ftp.voidResp()).toMatch(/^226/);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(server.commands.slice(-2)).toEqual(["ABOR", "NOOP"]);
    await inStep(ftp);
  });

  it("ABOR never answered: abort() fails with FtpTimeoutError within the timeout, and the session is closed", async () => {
    await using server = await startHostileServer(
      withDirectories({
        ABOR: async (session) => {
          await session.stall();
        },
        RETR: async (session) => {
          await session.send("150 go\r\n");
          void stream(await session.data());
        },
      }),
    );
    const ftp = await client(server, 800);
    const { abort, ms } = await abortFromCallback(ftp);
    expect(FtpTimeoutError.isInstance(abort)).toBe(true);
    expect(ms).toBeLessThan(3000);
    await expect(ftp.pwd()).rejects.toMatchObject({ code: expect.stringMatching(/^ERR_FTP_/) });
  });
});

describe("unsolicited and surplus replies", () => {
  it("an extra 226 after a transfer is never the next command's answer", async () => {
    await using server = await startHostileServer(
      withDirectories({
        RETR: async (session) => {
          await session.send("150 go\r\n");
          const data = await session.data();
          await new Promise<void>((resolve) => data.end(FILE.subarray(0, 1000), () => resolve()));
          await session.send("226 Transfer complete\r\n226 Transfer complete, again\r\n");
        },
      }),
    );
    const ftp = await client(server);
    const blocks: Uint8Array[] = [];
    expect(await ftp.retrBinary("RETR f", (block) => void blocks.push(block))).toBe("226 Transfer complete");
    expect(Buffer.concat(blocks)).toEqual(FILE.subarray(0, 1000));
    await inStep(ftp);
  });

  it("a reply sent while no command is outstanding is dropped, whatever its code", async () => {
    for (const unsolicited of ["226 Transfer complete", "250 ok", '257 "/elsewhere"', "200 hello"]) {
      await using server = await startHostileServer(
        withDirectories({
          PASS: async (session) => {
            await session.send("230 logged in\r\n");
            await delay(30);
            await session.send(`${unsolicited}\r\n`);
          },
        }),
      );
      const ftp = await client(server);
      await delay(80);
      expect(await ftp.pwd()).toBe("/");
      await inStep(ftp);
    }
  });

  it("a command answered twice: the surplus reply is never the next command's", async () => {
    await using server = await startHostileServer(
      withDirectories({
        TYPE: "200 type set\r\n200 type set, twice",
        MKD: '257 "/pub/d" created\r\n257 "/pub/d" created, twice',
      }),
    );
    const ftp = await client(server);
    await ftp.setType("I");
    expect(await ftp.pwd()).toBe("/");
    expect(await ftp.mkd("d")).toBe("/pub/d");
    expect(await ftp.size("f")).toBe(FILE.length);
    await inStep(ftp);
  });

  it("a reply no command can get, and no reply after it: ErrorProto in bounded time, session closed", async () => {
    await using server = await startHostileServer(withDirectories({ PWD: "250 not a directory reply" }));
    const ftp = await client(server);
    const started = Date.now();
    const error = await ftp.pwd().catch((e: unknown) => e);
    expect(ErrorProto.isInstance(error)).toBe(true);
    expect((error as ErrorProto).code).toBe("ERR_FTP_UNEXPECTED_REPLY");
    expect(Date.now() - started).toBeLessThan(TIMEOUT);
    await expect(ftp.voidCmd("NOOP")).rejects.toBeDefined();
  });

  it("an unsolicited 421 ends the session with its reply", async () => {
    const sessions: HostileSession[] = [];
    await using server = await startHostileServer(
      withDirectories({
        PASS: async (session) => {
          sessions.push(session);
          await session.send("230 logged in\r\n421 Timeout, closing control connection\r\n");
        },
      }),
    );
    const ftp = await client(server);
    const error = await ftp.pwd().catch((e: unknown) => e);
    expect(error).toMatchObject({ replyCode: 421 });
  });
});
