/**
 * The client's core on transcripts, with no server: the control channel's matching of replies
 * to commands, and the order in which a transfer's errors are raised (transfer.ts
 * `runTransfer`). Each transcript is the session a misbehaving server would have.
 */
import { ErrorPerm, ErrorProto, FTP } from "@ftplib/client";
import { ReplayTransport } from "@ftplib/testing";
import { describe, expect, it } from "vitest";

const LOGIN = [
  "ftplib-transcript 1",
  "connect ipv4",
  "< 220 hi",
  "> USER u",
  "< 331 pw",
  "> PASS ********",
  "< 230 ok",
];

/** A passive transfer's opening: TYPE (unless the session has it), EPSV, the data connection, the command. */
const transfer = (n: number, type: "I" | "A" | null, command: string, preliminary = "150 here") => [
  ...(type === null ? [] : [`> TYPE ${type}`, "< 200 ok"]),
  "> EPSV",
  "< 229 Entering Extended Passive Mode (|||{port}|)",
  `data ${n} connect 127.0.0.1 {port}`,
  `> ${command}`,
  `< ${preliminary}`,
];

async function replay(lines: string[]): Promise<{ ftp: FTP; replay: ReplayTransport }> {
  const transport = new ReplayTransport(`${lines.join("\n")}\n`, { source: "inline" });
  const ftp = new FTP({ transport, timeout: 2000 });
  await ftp.connect("127.0.0.1", 21);
  await ftp.login("u", "p");
  return { ftp, replay: transport };
}

describe("the control channel: every reply to its own command", () => {
  it("a second 226 after a transfer is dropped; PWD gets its own reply", async () => {
    const { ftp, replay: transport } = await replay([
      ...LOGIN,
      ...transfer(1, "A", "NLST"),
      "data 1 recv text crlf 1 lines",
      "| a.txt",
      "data 1 eof",
      "< 226 done",
      "< 226 done, again",
      "> PWD",
      '< 257 "/pub"',
      "> QUIT",
      "< 221 bye",
    ]);
    expect(await ftp.nlst()).toEqual(["a.txt"]);
    expect(await ftp.pwd()).toBe("/pub");
    expect(await ftp.quit()).toBe("221 bye");
    transport.assertComplete();
  });

  it("a 2xx before a transfer's 1xx is skipped, as ftplib skips it", async () => {
    const { ftp, replay: transport } = await replay([
      ...LOGIN,
      ...transfer(1, "A", "LIST", "200 odd"),
      "< 150 here",
      "data 1 recv text crlf 1 lines",
      "| -rw-r--r-- 1 u g 5 Jan 01 2026 a.txt",
      "data 1 eof",
      "< 226 done",
    ]);
    const lines: string[] = [];
    expect(await ftp.retrLines("LIST", (line) => void lines.push(line))).toBe("226 done");
    expect(lines).toHaveLength(1);
    transport.assertComplete();
  });

  it("a 1xx to a command that is no transfer is its answer: voidCmd raises, the session goes on", async () => {
    const { ftp, replay: transport } = await replay([...LOGIN, "> SITE ODD", "< 199 odd", "> NOOP", "< 200 ok"]);
    await expect(ftp.voidCmd("SITE ODD")).rejects.toMatchObject({ name: "ErrorReply" });
    expect(await ftp.voidCmd("NOOP")).toBe("200 ok");
    transport.assertComplete();
  });
});

describe("a transfer's errors, in order", () => {
  it("the caller's own error comes before the server's failure", async () => {
    const { ftp } = await replay([
      ...LOGIN,
      ...transfer(1, "I", "RETR f"),
      "data 1 recv text crlf 1 lines",
      "| some bytes",
      "data 1 eof",
      "< 451 local error",
    ]);
    const mine = new Error("the callback's own");
    await expect(
      ftp.retrBinary("RETR f", () => {
        throw mine;
      }),
    ).rejects.toBe(mine);
  });

  it("a final 5xx while data flows is the error", async () => {
    const { ftp } = await replay([
      ...LOGIN,
      ...transfer(1, "I", "RETR f"),
      "data 1 recv text crlf 1 lines",
      "| partial",
      "< 550 read error",
      "data 1 eof",
    ]);
    await expect(ftp.retrBinary("RETR f", () => undefined)).rejects.toBeInstanceOf(ErrorPerm);
  });

  it("data short of the size the 150 announced is never complete, whatever the final reply", async () => {
    const { ftp } = await replay([
      ...LOGIN,
      ...transfer(1, "I", "RETR f", "150 Opening BINARY mode data connection for f (1000 bytes)"),
      "data 1 recv text crlf 1 lines",
      "| short",
      "data 1 eof",
      "< 226 done",
    ]);
    const error = await ftp.retrBinary("RETR f", () => undefined).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ErrorProto);
    expect((error as ErrorProto).code).toBe("ERR_FTP_SHORT_TRANSFER");
  });
});
