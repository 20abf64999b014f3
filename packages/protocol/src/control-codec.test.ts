import { describe, expect, it } from "vitest";
import { enc, feedings } from "../test/feed.js";
import { type CodecEvent, ControlCodec, NEED_DATA, PAUSED } from "./control-codec.js";
import { LocalProtocolError, RemoteProtocolError } from "./errors.js";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** Feeds bytes and collects events until NEED_DATA, PAUSED or closed. */
function pump(codec: ControlCodec, bytes?: Uint8Array): CodecEvent[] {
  if (bytes !== undefined) codec.receive(bytes);
  const events: CodecEvent[] = [];
  for (;;) {
    const event = codec.nextEvent();
    events.push(event);
    if (event.type !== "reply") return events;
  }
}

const replyCodes = (events: CodecEvent[]) =>
  events.flatMap((e) => (e.type === "reply" ? [`${e.command ?? "-"}:${e.reply.code}`] : [e.type]));

function ready(): ControlCodec {
  const codec = new ControlCodec();
  pump(codec, enc("220 hello\r\n"));
  return codec;
}

describe("ControlCodec", () => {
  it("starts in greeting, takes 120 then 220, and refuses commands before the greeting", () => {
    const codec = new ControlCodec();
    expect(codec.state).toBe("greeting");
    expect(replyCodes(pump(codec, enc("120 soon\r\n")))).toEqual(["-:120", "need-data"]);
    expect(codec.state).toBe("greeting");
    expect(replyCodes(pump(codec, enc("220 ready\r\n")))).toEqual(["-:220", "need-data"]);
    expect(codec.state).toBe("ready");
  });

  it("refuses a command before the greeting with a clear error, and stays usable", () => {
    const codec = new ControlCodec();
    let error: unknown;
    try {
      codec.send("USER x");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(LocalProtocolError);
    expect(error).toMatchObject({ code: "ERR_FTP_STATE" });
    expect((error as Error).message).toBe("cannot send USER in state greeting: receive() the greeting first");
    expect(codec.state).toBe("greeting");
    expect(codec.lastSent).toBe(0);
    expect(codec.canSend("USER x")).toBe(false);
    // The same refusal again, not a stored failure.
    expect(() => codec.send("NOOP")).toThrow(/cannot send NOOP in state greeting/);
    // The greeting then arrives and the session goes on as if nothing happened.
    expect(replyCodes(pump(codec, enc("220 ready\r\n")))).toEqual(["-:220", "need-data"]);
    expect(text(codec.send("USER x"))).toBe("USER x\r\n");
    expect(codec.lastSent).toBe(1);
    expect(replyCodes(pump(codec, enc("331 pw\r\n")))).toEqual(["USER:331", "need-data"]);
  });

  it("refuses commands the state does not allow without breaking the conversation", () => {
    const busy = ready();
    busy.send("NOOP");
    expect(() => busy.send("PWD")).toThrow(LocalProtocolError);
    expect(busy.state).toBe("awaiting-reply");
    expect(busy.pending).toEqual(["NOOP"]);
    expect(replyCodes(pump(busy, enc("200 ok\r\n")))).toEqual(["NOOP:200", "need-data"]);
    busy.send("PWD");

    const paused = ready();
    paused.send("AUTH TLS");
    pump(paused, enc("234 go\r\n"));
    expect(() => paused.send("PBSZ 0")).toThrow(/switch TLS, then resume\(\)/);
    expect(paused.state).toBe("switching-tls");
    paused.resume();
    paused.send("PBSZ 0");

    const codec = ready();
    expect(() => codec.resume()).toThrow(LocalProtocolError);
    expect(codec.state).toBe("ready");
    codec.send("NOOP");
  });

  it("pairs replies with commands through a login", () => {
    const codec = ready();
    expect(text(codec.send("USER anonymous"))).toBe("USER anonymous\r\n");
    expect(codec.state).toBe("awaiting-reply");
    expect(replyCodes(pump(codec, enc("331 Password\r\n")))).toEqual(["USER:331", "need-data"]);
    codec.send("PASS anonymous@");
    expect(replyCodes(pump(codec, enc("230-Welcome\r\n230 Logged in\r\n")))).toEqual(["PASS:230", "need-data"]);
    expect(codec.state).toBe("ready");
    expect(codec.pending).toEqual([]);
  });

  it("allows one command at a time, except ABOR and STAT during a transfer", () => {
    const codec = ready();
    codec.send("RETR f");
    expect(replyCodes(pump(codec, enc("150 Opening (10 bytes)\r\n")))).toEqual(["RETR:150", "need-data"]);
    expect(codec.state).toBe("awaiting-final");
    codec.send("ABOR");
    expect(codec.pending).toEqual(["RETR", "ABOR"]);
    const events = pump(codec, enc("426 aborted\r\n226 ABOR ok\r\n"));
    expect(replyCodes(events)).toEqual(["RETR:426", "ABOR:226", "need-data"]);
    expect(codec.state).toBe("ready");

    const busy = ready();
    busy.send("NOOP");
    expect(() => busy.send("NOOP")).toThrow(/cannot send NOOP in state awaiting-reply/);
  });

  it("delivers an unsolicited reply while ready without a command", () => {
    const codec = ready();
    const events = pump(codec, enc("421 Timeout.\r\n"));
    expect(events[0]).toMatchObject({ type: "reply", command: null, final: true });
    expect(codec.state).toBe("ready");
  });

  it("reports a close between replies, with the commands left unanswered", () => {
    const codec = ready();
    codec.send("NOOP");
    codec.receiveEof();
    expect(codec.nextEvent()).toEqual({ type: "closed", unanswered: ["NOOP"] });
    expect(codec.state).toBe("closed");
    expect(codec.nextEvent()).toEqual({ type: "closed", unanswered: ["NOOP"] });
    expect(() => codec.send("NOOP")).toThrow(LocalProtocolError);
  });

  it("fails for good after a protocol error", () => {
    const codec = ready();
    codec.send("NOOP");
    codec.receive(enc("xyz\r\n"));
    expect(() => codec.nextEvent()).toThrow(RemoteProtocolError);
    expect(codec.state).toBe("error");
    expect(() => codec.nextEvent()).toThrow(RemoteProtocolError);
    expect(() => codec.send("NOOP")).toThrow(RemoteProtocolError);
  });

  it("marks a reply with no command outstanding as unsolicited, and stays ready", () => {
    const codec = ready();
    const [event] = pump(codec, enc("150 unexpected\r\n"));
    expect(event).toMatchObject({ type: "reply", command: null, id: null, unsolicited: true });
    expect(codec.state).toBe("ready");
  });

  it("refuses CR, LF or NUL in a command without changing state or producing bytes", () => {
    const codec = ready();
    for (const bad of ["echo 40\r\n0", "echo 40\n0", "echo 40\r0", "RETR a\0b", "DELE x\r\nDELE y"]) {
      expect(() => codec.send(bad)).toThrow(LocalProtocolError);
      expect(codec.state).toBe("ready");
    }
    expect(text(codec.send("NOOP"))).toBe("NOOP\r\n");
  });

  it("pauses after 234 to AUTH TLS and hands over the bytes that followed", () => {
    const codec = ready();
    codec.send("AUTH TLS");
    const events = pump(codec, enc("234 Proceed\r\n220 injected\r\n"));
    expect(replyCodes(events)).toEqual(["AUTH:234", "paused"]);
    expect(codec.state).toBe("switching-tls");
    expect(codec.nextEvent()).toBe(PAUSED);
    expect(text(codec.trailingData.data)).toBe("220 injected\r\n");
    codec.receive(enc("more"));
    expect(text(codec.trailingData.data)).toBe("220 injected\r\nmore");
    expect(() => codec.send("PBSZ 0")).toThrow(LocalProtocolError);
  });

  it("resumes after the switch and decodes what the new layer brings", () => {
    const codec = ready();
    codec.send("AUTH TLS");
    pump(codec, enc("234 Proceed\r\n"));
    expect(codec.trailingData.data.length).toBe(0);
    codec.resume();
    expect(codec.state).toBe("ready");
    codec.send("PBSZ 0");
    expect(replyCodes(pump(codec, enc("200 PBSZ=0\r\n")))).toEqual(["PBSZ:200", "need-data"]);
  });

  it("does not pause for a refused AUTH, and pauses after CCC", () => {
    const codec = ready();
    codec.send("AUTH TLS");
    expect(replyCodes(pump(codec, enc("500 no TLS\r\n")))).toEqual(["AUTH:500", "need-data"]);
    codec.send("CCC");
    expect(replyCodes(pump(codec, enc("200 Clear\r\n")))).toEqual(["CCC:200", "paused"]);
    codec.resume();
    expect(codec.state).toBe("ready");
  });

  it("events() stops at NEED_DATA, at PAUSED and after the close, where nextEvent() repeats", () => {
    const codec = new ControlCodec();
    codec.receive(enc("220 hi\r\n"));
    expect(replyCodes([...codec.events()])).toEqual(["-:220"]);
    codec.send("AUTH TLS");
    codec.receive(enc("234 go\r\n"));
    expect(replyCodes([...codec.events()])).toEqual(["AUTH:234"]);
    expect(codec.state).toBe("switching-tls");
    expect([...codec.events()]).toEqual([]); // still paused: an empty loop, not an endless one
    codec.resume();
    codec.send("PBSZ 0");
    codec.receive(enc("200 ok\r\n421 bye\r\n"));
    codec.receiveEof();
    const events = [...codec.events()];
    expect(replyCodes(events)).toEqual(["PBSZ:200", "-:421", "closed"]);
    expect([...codec.events()]).toEqual([{ type: "closed", unanswered: [] }]);
  });

  it("events() throws on malformed input as nextEvent() does", () => {
    const codec = ready();
    codec.send("NOOP");
    codec.receive(enc("xyz\r\n"));
    expect(() => [...codec.events()]).toThrow(RemoteProtocolError);
    expect(codec.state).toBe("error");
  });

  it("keeps an EOF that came during the pause", () => {
    const codec = ready();
    codec.send("AUTH TLS");
    pump(codec, enc("234 Proceed\r\n"));
    codec.receiveEof();
    expect(codec.trailingData.closed).toBe(true);
    codec.resume();
    expect(codec.nextEvent()).toEqual({ type: "closed", unanswered: [] });
  });

  it("gives the same events however a session is split", () => {
    const session = enc('220-Welcome\r\n220 ready\r\n331 pw\r\n230 ok\r\n257 "/"\r\n');
    const commands = ["USER a", "PASS b", "PWD"];
    const expected = ["-:220", "USER:331", "PASS:230", "PWD:257"];
    for (const feeding of feedings(session)) {
      const codec = new ControlCodec();
      const seen: string[] = [];
      for (const chunk of feeding.chunks) {
        codec.receive(chunk);
        for (let e = codec.nextEvent(); e !== NEED_DATA; e = codec.nextEvent()) {
          seen.push(...replyCodes([e]));
          const next = commands[seen.length - 1];
          if (next !== undefined) codec.send(next);
        }
      }
      expect(seen, feeding.name).toEqual(expected);
    }
  });
});

describe("ControlCodec.canSend", () => {
  it("answers without changing state", () => {
    const codec = ready();
    expect(codec.canSend("NOOP")).toBe(true);
    codec.send("RETR x");
    pump(codec, enc("150 ok\r\n"));
    expect(codec.canSend("PWD")).toBe(false);
    expect(codec.canSend("ABOR")).toBe(true);
    expect(codec.state).toBe("awaiting-final");
    expect(new ControlCodec().canSend("USER x")).toBe(false);
  });
});

describe("ControlCodec: a 2xx before a transfer's 1xx", () => {
  it("is skipped, as ftplib does: the transfer still waits for its 1xx and final reply", () => {
    const codec = ready();
    codec.send("LIST");
    const events = pump(codec, enc("200 odd\r\n"));
    expect(events[0]).toMatchObject({ command: "LIST", id: 1, final: false });
    expect(codec.state).toBe("awaiting-reply");
    expect(replyCodes(pump(codec, enc("150 ok\r\n226 done\r\n")))).toEqual(["LIST:150", "LIST:226", "need-data"]);
    expect(codec.state).toBe("ready");
  });
});

describe("ControlCodec and ABOR", () => {
  it("ends an aborted transfer with a second 1xx, as pure-ftpd sends it", () => {
    const codec = ready();
    codec.send("RETR big");
    pump(codec, enc("150-Accepted data connection\r\n150 51200.0 kbytes to download\r\n"));
    codec.send("ABOR");
    const events = pump(
      codec,
      enc("150 0.001 seconds (measured here)\r\n226 Since you see this ABOR must've succeeded\r\n"),
    );
    expect(events.map((e) => (e.type === "reply" ? `${e.command}:${e.reply.code}:${e.final}` : e.type))).toEqual([
      "RETR:150:true",
      "ABOR:226:true",
      "need-data",
    ]);
    expect(codec.state).toBe("ready");
  });

  it("keeps a second 1xx preliminary when no ABOR is queued", () => {
    const codec = ready();
    codec.send("RETR x");
    const events = pump(codec, enc("150 one\r\n150 two\r\n226 done\r\n"));
    expect(events.map((e) => (e.type === "reply" ? `${e.reply.code}:${e.final}` : e.type))).toEqual([
      "150:false",
      "150:false",
      "226:true",
      "need-data",
    ]);
  });
});

describe("ControlCodec: NOOP as a marker after ABOR", () => {
  const trace = (events: CodecEvent[]) =>
    events.map((e) => (e.type === "reply" ? `${e.command}:${e.reply.code}` : e.type));

  it("is allowed while ABOR is outstanding, and not otherwise", () => {
    const codec = ready();
    codec.send("STOR f");
    pump(codec, enc("150 go\r\n"));
    expect(codec.canSend("NOOP")).toBe(false);
    codec.send("ABOR");
    expect(codec.canSend("NOOP")).toBe(true);
    codec.send("NOOP");
    expect(codec.pending).toEqual(["STOR", "ABOR", "NOOP"]);
  });

  it("ends the exchange when the server answers the transfer and ABOR separately", () => {
    const codec = ready();
    codec.send("RETR f");
    pump(codec, enc("150 go\r\n"));
    codec.send("ABOR");
    codec.send("NOOP");
    expect(trace(pump(codec, enc("426 aborted\r\n226 ABOR ok\r\n200 NOOP ok\r\n")))).toEqual([
      "RETR:426",
      "ABOR:226",
      "NOOP:200",
      "need-data",
    ]);
    expect(codec.state).toBe("ready");
  });

  it("marks a surplus reply to ABOR as unsolicited (ftp-srv answers it with 426 and 226)", () => {
    const codec = ready();
    codec.send("RETR f");
    pump(codec, enc("150 go\r\n"));
    codec.send("ABOR");
    codec.send("NOOP");
    expect(trace(pump(codec, enc("551 write failed\r\n426 aborted\r\n226 ok\r\n200 NOOP ok\r\n")))).toEqual([
      "RETR:551",
      "ABOR:426",
      "null:226",
      "NOOP:200",
      "need-data",
    ]);
    expect(codec.state).toBe("ready");
    codec.send("PWD");
    expect(trace(pump(codec, enc('257 "/"\r\n')))).toEqual(["PWD:257", "need-data"]);
  });

  it("ends the exchange when the server answers both with one reply (proftpd, STOR)", () => {
    const codec = ready();
    codec.send("STOR f");
    pump(codec, enc("150 go\r\n"));
    codec.send("ABOR");
    codec.send("NOOP");
    expect(trace(pump(codec, enc("226 Abort successful\r\n200 NOOP ok\r\n")))).toEqual([
      "STOR:226",
      "NOOP:200",
      "need-data",
    ]);
    expect(codec.state).toBe("ready");
    expect(codec.pending).toEqual([]);
  });
});

describe("ControlCodec: every reply matched to the command it answers", () => {
  const trace = (events: CodecEvent[]) =>
    events.map((e) => (e.type === "reply" ? `${e.command}#${e.id}:${e.reply.code}${e.final ? "" : "+"}` : e.type));

  it("gives each command an id, and each reply the id of its command", () => {
    const codec = ready();
    codec.send("TYPE I");
    expect(codec.lastSent).toBe(1);
    expect(trace(pump(codec, enc("200 ok\r\n")))).toEqual(["TYPE#1:200", "need-data"]);
    codec.send("PWD");
    expect(trace(pump(codec, enc('257 "/"\r\n')))).toEqual(["PWD#2:257", "need-data"]);
  });

  it("never gives a surplus 226 to the next command (PWD, CWD, TYPE, NOOP, SIZE)", () => {
    for (const [command, reply] of [
      ["PWD", '257 "/"'],
      ["CWD x", "250 ok"],
      ["TYPE I", "200 ok"],
      ["NOOP", "200 ok"],
      ["SIZE f", "213 5"],
    ]) {
      const codec = ready();
      codec.send(command!);
      const events = pump(codec, enc(`226 Transfer complete\r\n${reply}\r\n`));
      expect(trace(events)).toEqual([
        "null#null:226",
        `${command!.split(" ")[0]}#1:${reply!.slice(0, 3)}`,
        "need-data",
      ]);
      expect(codec.state).toBe("ready");
    }
  });

  it("takes a 1xx to a command that is no transfer as its answer (ftplib's voidcmd raises on it)", () => {
    const codec = ready();
    codec.send("ECHO 199");
    expect(trace(pump(codec, enc("199 hi\r\n")))).toEqual(["ECHO#1:199", "need-data"]);
    expect(codec.state).toBe("ready");
    codec.send("PWD");
    expect(trace(pump(codec, enc("125 odd\r\n")))).toEqual(["PWD#2:125", "need-data"]);
    expect(codec.state).toBe("ready");
  });

  it("takes a 1xx as preliminary for a command sent as a transfer", () => {
    const codec = ready();
    codec.send("SITE GETFILE x", { transfer: true });
    expect(trace(pump(codec, enc("150 go\r\n226 done\r\n")))).toEqual(["SITE#1:150+", "SITE#1:226", "need-data"]);
  });

  it("matches an ABOR answered 502 before the transfer's 226 (a server without ABOR)", () => {
    const codec = ready();
    codec.send("RETR f");
    pump(codec, enc("150 go\r\n"));
    codec.send("ABOR");
    expect(trace(pump(codec, enc("502 ABOR not implemented.\r\n")))).toEqual(["ABOR#2:502", "need-data"]);
    expect(codec.state).toBe("awaiting-final");
    expect(codec.pending).toEqual(["RETR"]);
    expect(trace(pump(codec, enc("226 Closing data connection\r\n")))).toEqual(["RETR#1:226", "need-data"]);
    expect(codec.state).toBe("ready");
  });

  it("matches a NOOP marker refused with 502 after the ABOR's replies (a server without NOOP)", () => {
    const codec = ready();
    codec.send("RETR f");
    pump(codec, enc("150 go\r\n"));
    codec.send("ABOR");
    expect(trace(pump(codec, enc("426 transfer aborted\r\n")))).toEqual(["RETR#1:426", "need-data"]);
    // The transfer is answered and ABOR not yet: a marker goes out; ABOR's reply comes, then the marker's.
    codec.send("NOOP");
    expect(trace(pump(codec, enc("226 abort successful\r\n502 'noop' not implemented\r\n")))).toEqual([
      "ABOR#2:226",
      "NOOP#3:502",
      "need-data",
    ]);
    expect(codec.state).toBe("ready");
  });

  it("allows the marker after ABOR was answered while the transfer still waits", () => {
    const codec = ready();
    codec.send("RETR f");
    pump(codec, enc("150 go\r\n"));
    codec.send("ABOR");
    pump(codec, enc("225 ABOR ok\r\n"));
    expect(codec.state).toBe("awaiting-final");
    expect(codec.canSend("NOOP")).toBe(true);
    expect(codec.canSend("PWD")).toBe(false);
    codec.send("NOOP");
    expect(trace(pump(codec, enc("200 ok\r\n")))).toEqual(["NOOP#3:200", "need-data"]);
    expect(codec.state).toBe("ready");
    expect(codec.canSend("NOOP")).toBe(true);
    codec.send("NOOP");
    expect(codec.canSend("NOOP")).toBe(false);
  });
});

describe("ControlCodec: success replies of one meaning", () => {
  it("never gives PWD, MKD, EPSV or PASV a success reply they cannot get", () => {
    for (const [command, surplus, reply] of [
      ["PWD", "250 CWD ok", '257 "/d"'],
      ["EPSV", "200 PORT ok", "229 Entering Extended Passive Mode (|||1234|)"],
      ["PASV", "250 ok", "227 Entering Passive Mode (127,0,0,1,4,210)"],
      ["MKD d", "250 ok", '257 "d" created'],
    ]) {
      const codec = ready();
      codec.send(command!);
      const events = pump(codec, enc(`${surplus}\r\n${reply}\r\n`));
      const verb = command!.split(" ")[0];
      expect(events.map((e) => (e.type === "reply" ? `${e.command}:${e.reply.code}` : e.type))).toEqual([
        `null:${surplus!.slice(0, 3)}`,
        `${verb}:${reply!.slice(0, 3)}`,
        "need-data",
      ]);
    }
  });

  it("gives any command an error reply, and an unknown verb any reply", () => {
    const codec = ready();
    codec.send("PWD");
    expect(pump(codec, enc("550 no\r\n"))[0]).toMatchObject({ command: "PWD", unsolicited: false });
    codec.send("SITE CHMOD 644 f");
    expect(pump(codec, enc("226 odd but its own\r\n"))[0]).toMatchObject({ command: "SITE", unsolicited: false });
  });
});

describe("ControlCodec: the end of a started transfer", () => {
  it("is any 2xx (aioftp ends MLSD with 200), except a 200 while a NOOP marker is outstanding", () => {
    const codec = ready();
    codec.send("MLSD");
    expect(replyCodes(pump(codec, enc("150 mlsd transfer started\r\n200 mlsd transfer done\r\n")))).toEqual([
      "MLSD:150",
      "MLSD:200",
      "need-data",
    ]);
    expect(codec.state).toBe("ready");

    codec.send("RETR f");
    pump(codec, enc("150 go\r\n"));
    codec.send("ABOR");
    pump(codec, enc("225 ABOR ok\r\n"));
    codec.send("NOOP");
    expect(replyCodes(pump(codec, enc("200 NOOP ok\r\n")))).toEqual(["NOOP:200", "need-data"]);
    expect(codec.state).toBe("ready");
  });
});
