import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { mlsxFileEntry } from "./mlsx-entry.js";
import { dosParser } from "./parse-dos.js";
import { eplfParser } from "./parse-eplf.js";
import { ListParserStream, parseList } from "./parse-list.js";
import { unixParser } from "./parse-unix.js";
import type { FileEntry, ListParser } from "./file-entry.js";

const NOW = new Date("2026-11-22T12:00:00Z");
const fixture = (name: string) =>
  readFileSync(new URL(`../../test/fixtures/listings/${name}.txt`, import.meta.url), "utf8")
    .split("\n")
    .filter(Boolean);
const brief = (e: FileEntry | null) =>
  e === null
    ? null
    : { name: e.name, type: e.type, size: e.size, target: e.target, modifiedAt: e.modifiedAt?.toISOString() };

describe("LIST from the servers (recorded)", () => {
  const expected = (withLink: boolean) => [
    { name: "a directory", type: "dir", size: 4096, target: undefined, modifiedAt: "2026-11-22T03:14:00.000Z" },
    {
      name: "file with spaces.txt",
      type: "file",
      size: 1234,
      target: undefined,
      modifiedAt: "2026-11-22T03:14:00.000Z",
    },
    withLink
      ? { name: "link", type: "link", size: 20, target: "file with spaces.txt", modifiedAt: "2026-11-22T03:14:00.000Z" }
      : { name: "link", type: "file", size: 1234, target: undefined, modifiedAt: "2026-11-22T03:14:00.000Z" },
    { name: "ünïcødé.bin", type: "file", size: 5, target: undefined, modifiedAt: "2026-11-22T03:14:00.000Z" },
  ];
  for (const [server, withLink] of [
    ["vsftpd", true],
    ["pure-ftpd", true],
    ["proftpd", true],
    ["pyftpdlib", true],
    ["ftp-srv", false],
  ] as const) {
    it(`${server}: unix format`, () => {
      const stream = new ListParserStream({ now: NOW });
      const entries = fixture(`${server}-list`).map((l) => brief(stream.parse(l)));
      expect(stream.format).toBe("unix");
      expect(entries).toEqual(expected(withLink));
    });
  }
});

describe("MLSD from the servers (recorded)", () => {
  for (const server of ["pure-ftpd", "proftpd", "pyftpdlib"]) {
    it(`${server}`, () => {
      const entries = fixture(`${server}-mlsd`)
        .map(mlsxFileEntry)
        .filter((e) => e !== null);
      const byName = Object.fromEntries(entries.map((e) => [e.name, e]));
      expect(Object.keys(byName).sort()).toEqual(["a directory", "file with spaces.txt", "link", "ünïcødé.bin"]);
      expect(byName["a directory"]!.type).toBe("dir");
      expect(byName["file with spaces.txt"]).toMatchObject({ type: "file", size: 1234 });
      expect(byName["file with spaces.txt"]!.modifiedAt?.toISOString()).toBe("2026-11-22T03:14:44.000Z");
      // pyftpdlib follows links; pure-ftpd and proftpd report them.
      expect(byName.link!.type).toBe(server === "pyftpdlib" ? "file" : "link");
      if (server !== "pyftpdlib") expect(byName["ünïcødé.bin"]!.permissions).toBe("rw-r--r--");
    });
  }
  it("reads unix.mode as permissions only when it is 3 or 4 octal digits, and size only when all digits", () => {
    const entry = (facts: string) => mlsxFileEntry(`type=file;${facts}; f`)!;
    expect(entry("UNIX.mode=0755;size=12").permissions).toBe("rwxr-xr-x");
    expect(entry("unix.mode=644").permissions).toBe("rw-r--r--");
    expect(entry("unix.mode=0640").permissions).toBe("rw-r-----");
    for (const mode of ["999", "75", "07555x", "", "0o755"])
      expect(entry(`unix.mode=${mode}`).permissions).toBeUndefined();
    expect(entry("size=12").size).toBe(12);
    for (const size of ["", "-1", "1e3", "0x10", "1.5"]) expect(entry(`size=${size}`).size).toBeUndefined();
  });
  it("takes the target of OS.unix=slink:target", () => {
    expect(mlsxFileEntry("type=OS.unix=slink:/etc/motd;modify=20200101000000; motd")).toMatchObject({
      type: "link",
      target: "/etc/motd",
    });
  });
});

describe("unix variants", () => {
  const parse = (line: string) => brief(unixParser.parse(line, { now: NOW }));
  it("reads a year instead of a time, and named months in either order", () => {
    expect(parse("drwxr-sr-x    5 1176     1176         4096 Dec 19  2000 pool")).toMatchObject({
      name: "pool",
      type: "dir",
      modifiedAt: "2000-12-19T00:00:00.000Z",
    });
    expect(parse("-rw-r--r--   1 user group  312 3 Aug 1994 welcome.msg")).toMatchObject({
      name: "welcome.msg",
      size: 312,
      modifiedAt: "1994-08-03T00:00:00.000Z",
    });
  });
  it("puts a date without a year in the past year when it would be in the future", () => {
    expect(parse("-rw-r--r-- 1 a b 1 Dec 25 10:00 x")!.modifiedAt).toBe("2025-12-25T10:00:00.000Z");
    expect(parse("-rw-r--r-- 1 a b 1 Nov 23 10:00 x")!.modifiedAt).toBe("2026-11-23T10:00:00.000Z");
  });
  it("reads ISO dates (ls --time-style)", () => {
    expect(parse("-rw-r--r-- 1 user group 42 2024-01-03 12:30 report 2024.csv")).toMatchObject({
      name: "report 2024.csv",
      size: 42,
      modifiedAt: "2024-01-03T12:30:00.000Z",
    });
  });
  it("reads device files, listings without a group, and attribute markers", () => {
    expect(parse("crw-rw----   1 root     tty        4,  64 Jan  3 12:00 tty0")).toMatchObject({
      name: "tty0",
      type: "unknown",
      size: undefined,
    });
    expect(unixParser.parse("-rw-r--r--   1 owner   1234 Jan  3  2020 no group", { now: NOW })).toMatchObject({
      owner: "owner",
      size: 1234,
      name: "no group",
    });
    expect(unixParser.parse("-rw-r--r--+  1 owner grp 7 Jan  3  2020 acl", { now: NOW })).toMatchObject({
      group: "grp",
      name: "acl",
    });
  });
  it("keeps spaces inside and at the end of names", () => {
    expect(parse("-rw-r--r-- 1 a b 1 Jan 3 2020 two  spaces ")!.name).toBe("two  spaces ");
  });
  it("keeps a CR, U+2028 or U+2029 in a name (the whole line, not dropped), in every format with a name last", () => {
    for (const name of ["carriage\rreturn", "line\u2028separator", "para\u2029graph"]) {
      expect(parse(`-rw-r--r-- 1 a b 1 Jan 3 2020 ${name}`)!.name).toBe(name);
      expect(parseList([`01-03-20  10:00AM                 1 ${name}`], { now: NOW })[0]!.name).toBe(name);
    }
  });
  it("applies the server's timezone", () => {
    const entry = unixParser.parse("-rw-r--r-- 1 a b 1 Jan 3 2020 x", { now: NOW, timezoneOffset: 120 });
    expect(entry!.modifiedAt!.toISOString()).toBe("2020-01-02T22:00:00.000Z");
  });
  it("skips total lines and blanks, and refuses what it does not know", () => {
    expect(parseList(["total 12", "", "-rw-r--r-- 1 a b 1 Jan 3 2020 x"], { now: NOW }).map((e) => e.name)).toEqual([
      "x",
    ]);
    expect(unixParser.test("not a listing")).toBe(false);
  });
});

describe("FileZilla Server and other Unix-like servers (documented formats)", () => {
  it("reads FileZilla Server's listing", () => {
    const entries = parseList(
      [
        "drwxr-xr-x 1 ftp ftp              0 Nov 03 09:27 My Documents",
        "-rw-r--r-- 1 ftp ftp         419870 Oct 29  2025 setup (1).exe",
      ],
      { now: NOW },
    ).map(brief);
    expect(entries).toEqual([
      { name: "My Documents", type: "dir", size: 0, target: undefined, modifiedAt: "2026-11-03T09:27:00.000Z" },
      { name: "setup (1).exe", type: "file", size: 419870, target: undefined, modifiedAt: "2025-10-29T00:00:00.000Z" },
    ]);
  });
});

describe("DOS / IIS", () => {
  const parse = (line: string) => brief(dosParser.parse(line, {}));
  it("reads directories and files, 12- and 24-hour times, two- and four-digit years", () => {
    expect(parse("01-03-94  12:00PM       <DIR>          my dir")).toEqual({
      name: "my dir",
      type: "dir",
      size: undefined,
      target: undefined,
      modifiedAt: "1994-01-03T12:00:00.000Z",
    });
    expect(parse("11-22-26  01:05AM                 1234 file.txt")).toMatchObject({
      type: "file",
      size: 1234,
      modifiedAt: "2026-11-22T01:05:00.000Z",
    });
    expect(parse("11-22-2026  13:05                 99 late.txt")).toMatchObject({
      size: 99,
      modifiedAt: "2026-11-22T13:05:00.000Z",
    });
    expect(parse("2026-11-22  12:00AM   <DIR>   iso dir")).toMatchObject({
      type: "dir",
      modifiedAt: "2026-11-22T00:00:00.000Z",
    });
  });
  it("is detected by parseList", () => {
    const stream = new ListParserStream();
    expect(stream.parse("01-03-94  12:00PM       <DIR>          d")?.type).toBe("dir");
    expect(stream.format).toBe("dos");
  });
});

describe("EPLF", () => {
  it("reads the specification's examples", () => {
    expect(brief(eplfParser.parse("+i8388621.48594,m825718503,r,s280,\tdjb.html", {}))).toEqual({
      name: "djb.html",
      type: "file",
      size: 280,
      target: undefined,
      modifiedAt: "1996-03-01T22:15:03.000Z",
    });
    expect(eplfParser.parse("+i8388621.50690,m824255907,/,\t514", {})).toMatchObject({ name: "514", type: "dir" });
    expect(eplfParser.parse("+i1.2,m1,r,s10,up644,\tfile", {})).toMatchObject({ permissions: "644" });
    expect(parseList(["+i8388621.44468,m839956783,r,s10376,\tRFC959.txt"]).map((e) => e.name)).toEqual(["RFC959.txt"]);
  });
});

describe("NetWare, OpenVMS, IBM i", () => {
  it("reads NetWare", () => {
    const stream = new ListParserStream({ now: NOW });
    expect(brief(stream.parse("d [R----F--] supervisor            512       Jan 16 18:53    login"))).toMatchObject({
      name: "login",
      type: "dir",
      size: 512,
      modifiedAt: "2026-01-16T18:53:00.000Z",
    });
    expect(
      brief(stream.parse("- [RWCEAFMS] rhinz                 8765       Jul  4  2019    backup file.zip")),
    ).toMatchObject({ name: "backup file.zip", type: "file", size: 8765, modifiedAt: "2019-07-04T00:00:00.000Z" });
    expect(stream.format).toBe("netware");
  });
  it("reads OpenVMS, directories and 512-byte blocks", () => {
    const stream = new ListParserStream();
    expect(
      brief(stream.parse("README.TXT;1         2/4      3-JAN-1994 12:00:00 [GROUP,OWNER] (RWED,RWED,RE,)")),
    ).toMatchObject({ name: "README.TXT", type: "file", size: 1024, modifiedAt: "1994-01-03T12:00:00.000Z" });
    expect(stream.parse("SUBDIR.DIR;1  1  19-NOV-2026 08:30:15.22  [SYSTEM]  (RWE,RWE,RE,E)")).toMatchObject({
      name: "SUBDIR",
      type: "dir",
    });
    expect(stream.format).toBe("vms");
  });
  it("reads IBM i", () => {
    const stream = new ListParserStream();
    expect(brief(stream.parse("QSYS           77824 02/23/00 15:09:55 *DIR       QOpenSys/"))).toMatchObject({
      name: "QOpenSys",
      type: "dir",
      size: 77824,
      modifiedAt: "2000-02-23T15:09:55.000Z",
    });
    expect(stream.parse("IBMUSER         1024 11/22/26 08:00:00 *STMF      notes.txt")).toMatchObject({
      name: "notes.txt",
      type: "file",
    });
    expect(stream.format).toBe("os400");
  });
});

describe("custom parsers", () => {
  it("go first when given", () => {
    const vms: ListParser = {
      name: "vms",
      test: (line) => /;\d+\s/.test(line),
      parse: (line) => ({ name: line.split(";")[0]!, type: "file", raw: line }),
    };
    const stream = new ListParserStream({ parsers: [vms] });
    expect(stream.parse("README.TXT;1  2/4  3-JAN-1994 12:00 [OWNER]")?.name).toBe("README.TXT");
    expect(stream.format).toBe("vms");
  });
});
