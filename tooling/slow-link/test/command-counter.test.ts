import { describe, expect, it } from "vitest";
import { CommandCounter, parsePassiveReply, rewritePassiveReply } from "../index.js";

describe("CommandCounter", () => {
  it("counts a group of commands sent before the next reply as one round trip, and data connections", () => {
    const c = new CommandCounter();
    c.command("TYPE I\r\n");
    c.reply();
    c.command("EPSV\r\n");
    c.command("RETR a\r\n"); // pipelined with EPSV
    c.dataConnection();
    c.reply();
    c.reply();
    c.command("\xff\xf4\xff\xf2ABOR\r\n");
    expect(c.toJSON()).toEqual({
      commands: 4,
      commandRoundTrips: 3,
      dataConnections: 1,
      roundTrips: 4,
      dataBytes: 0,
      verbs: { "TYPE I": 1, EPSV: 1, RETR: 1, ABOR: 1 },
    });
  });
});

describe("passive replies", () => {
  it("reads and rewrites PASV and EPSV replies", () => {
    expect(parsePassiveReply("227 Entering Passive Mode (127,0,0,1,82,200).\r\n")).toEqual({
      kind: "pasv",
      host: "127.0.0.1",
      port: 82 * 256 + 200,
    });
    expect(parsePassiveReply("229 Entering Extended Passive Mode (|||21101|)\r\n")).toEqual({
      kind: "epsv",
      port: 21101,
    });
    expect(parsePassiveReply("200 ok (1,2,3,4,5,6)\r\n")).toBeUndefined();
    expect(rewritePassiveReply("227 Entering Passive Mode (10,0,0,1,82,200).\r\n", "127.0.0.2", 40000)).toBe(
      "227 Entering Passive Mode (127,0,0,2,156,64).\r\n",
    );
    expect(rewritePassiveReply("229 ok (!!!21101!)\r\n", "::1", 40000)).toBe("229 ok (!!!40000!)\r\n");
  });
});
