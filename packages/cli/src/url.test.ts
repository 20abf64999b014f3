import { describe, expect, it } from "vitest";
import { CliError } from "./exit-codes.js";
import { findNetrcEntry } from "./netrc.js";
import { isFtpUrl, joinRemote, parseFtpUrl, remoteDirname, trimTrailingSlash } from "./url.js";

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
