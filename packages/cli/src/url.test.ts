import { describe, expect, it } from "vitest";
import { CliError } from "./exit-codes.js";
import { findNetrcEntry } from "./netrc.js";
import { treeFilter } from "./glob.js";
import {
  isFtpUrl,
  joinRemote,
  parseFtpUrl,
  redactSecrets,
  redactUrl,
  remoteDirname,
  secretsOf,
  trimTrailingSlash,
} from "./url.js";

describe("parseFtpUrl", () => {
  it("reads user, password, host, port and path, percent-decoded", () => {
    expect(parseFtpUrl("ftp://me%40home:p%3Ass%2Fw@example.com:2121/pub/a%20b.txt")).toEqual({
      tls: "none",
      host: "example.com",
      port: 2121,
      user: "me@home",
      password: "p:ss/w",
      path: "pub/a b.txt",
    });
  });

  it("gives each scheme its TLS mode and default port", () => {
    expect(parseFtpUrl("ftp://h/").port).toBe(21);
    expect(parseFtpUrl("ftps://h/")).toMatchObject({ tls: "implicit", port: 990 });
    expect(parseFtpUrl("FTPES://h/")).toMatchObject({ tls: "explicit", port: 21 });
  });

  it("takes paths relative to the login directory, %2F for an absolute one", () => {
    expect(parseFtpUrl("ftp://h").path).toBe("");
    expect(parseFtpUrl("ftp://h/dir/").path).toBe("dir/");
    expect(parseFtpUrl("ftp://h/%2Fetc/motd").path).toBe("/etc/motd");
    expect(parseFtpUrl("ftp://h/x.bin;type=i").path).toBe("x.bin");
  });

  it("unwraps IPv6 addresses", () => {
    expect(parseFtpUrl("ftp://[::1]:21021/x")).toMatchObject({ host: "::1", port: 21021 });
  });

  it("refuses what is not an FTP URL", () => {
    for (const bad of ["http://h/", "ftp:/h", "/local/path", "ftp://", "ftp://h/%zz"]) {
      expect(() => parseFtpUrl(bad), bad).toThrow(CliError);
    }
    expect(isFtpUrl("./ftp://x")).toBe(false);
  });

  it("joins and splits remote paths", () => {
    expect(joinRemote("", "a")).toBe("a");
    expect(joinRemote("d/", "a")).toBe("d/a");
    expect(joinRemote("/d", "a")).toBe("/d/a");
    expect(remoteDirname("a.txt")).toBe("");
    expect(remoteDirname("/a.txt")).toBe("/");
    expect(remoteDirname("x/y/a.txt")).toBe("x/y");
    // "/" is the root, not the login directory that "" would be.
    expect(trimTrailingSlash("/")).toBe("/");
    expect(trimTrailingSlash("//")).toBe("/");
    expect(trimTrailingSlash("pub/")).toBe("pub");
    expect(trimTrailingSlash("/pub//")).toBe("/pub");
  });
});

describe("redactUrl and redactSecrets", () => {
  it("replaces a URL's password, wherever the URL is in the text", () => {
    expect(redactUrl("ftp://me:secret@host/pub/x")).toBe("ftp://me:***@host/pub/x");
    expect(redactUrl("open 'ftp:/me:secret@host/x' failed, see ftps://u:p%40ss@h:990/")).toBe(
      "open 'ftp:/me:***@host/x' failed, see ftps://u:***@h:990/",
    );
    expect(redactUrl("ftpes://me:pa/ss@host/x")).toBe("ftpes://me:***@host/x");
    expect(redactUrl("ftp://me:a@b@host/x")).toBe("ftp://me:***@host/x");
    // Nothing to hide: a user without a password, a port, a path with an @.
    for (const text of ["ftp://me@host/x", "ftp://host:21/a@b", "/local/a:b@c", "ftp://host/"])
      expect(redactUrl(text)).toBe(text);
  });

  it("masks the command line's passwords, as written and decoded", () => {
    const argv = ["get", "ftp://me:p%40ssword@host/x", "--password", "hunter22", "out"];
    expect(secretsOf(argv)).toEqual(expect.arrayContaining(["p%40ssword", "p@ssword", "hunter22"]));
    expect(redactSecrets("stat 'p@ssword/x' and hunter22", secretsOf(argv))).toBe("stat '***/x' and ***");
  });
});

describe("treeFilter", () => {
  it("matches names at any depth without a slash, whole paths with one; exclude wins", () => {
    const filter = treeFilter(["*.csv", "docs/**"], ["tmp", "old/*.csv"]);
    expect(["a.csv", "x/y/b.csv", "docs/readme.md", ".hidden.csv"].map(filter.file)).toEqual([true, true, true, true]);
    expect(["a.txt", "old/a.csv", "tmp"].map(filter.file)).toEqual([false, false, false]);
    expect(["tmp", "x/tmp", "old", "docs"].map(filter.dir)).toEqual([false, false, true, true]);
    expect(treeFilter([], []).active).toBe(false);
    expect(treeFilter([], ["x"]).file("y")).toBe(true);
  });
});

describe("findNetrcEntry", () => {
  const netrc = [
    "# credentials",
    "machine ftp.example.com login alice password 'a1'",
    "machine files.example.com",
    "  login bob",
    '  password "two words"',
    "  account acct9",
    "macdef init",
    "machine evil.example.com login mallory password stolen",
    "",
    "machine ftp.example.com login carol password c3",
    "default login anonymous password me@example.com",
  ].join("\n");

  it("finds the machine's entry, on one line or several", () => {
    expect(findNetrcEntry(netrc, "FTP.example.com")).toEqual({ login: "alice", password: "'a1'" });
    expect(findNetrcEntry(netrc, "files.example.com")).toEqual({
      login: "bob",
      password: "two words",
      account: "acct9",
    });
  });

  it("matches the login when the URL names one", () => {
    expect(findNetrcEntry(netrc, "ftp.example.com", "carol")?.password).toBe("c3");
  });

  it("skips macro bodies and falls back to default", () => {
    expect(findNetrcEntry(netrc, "evil.example.com")).toEqual({ login: "anonymous", password: "me@example.com" });
    expect(findNetrcEntry("machine a login x password y", "b")).toBeUndefined();
  });
});
