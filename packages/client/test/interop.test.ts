/**
 * The interop matrix: one scenario list against every server in every mode it supports (plain,
 * explicit TLS, implicit TLS; passive and active; IPv4 and IPv6). Writes the matrix to
 * reports/interop.md and reports/interop.json. Runs with FTPLIB_INTEROP=1 (`pnpm test:interop`),
 * with the servers started by servers/servers.sh (vsftpd, pure-ftpd, proftpd, pyftpdlib, aioftp,
 * Twisted, inetutils, nodeftpd, netkit) and ftp-srv embedded.
 */
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { realServers, startEmbeddedServer, testTls } from "@ftplib/test-servers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorPerm, FTP, FTP_TLS } from "../src/index.js";

const wanted = process.env.FTPLIB_INTEROP === "1";
/** FTPLIB_SERVERS=aioftp,ftp-srv: only these servers (the reports then show only them). */
const only = process.env.FTPLIB_SERVERS?.split(",").filter(Boolean);
type Tls = "plain" | "explicit" | "implicit";

interface Server {
  name: string;
  user: string;
  password: string;
  root: string;
  ca: string;
  /** host and port by TLS mode and family; absent: not supported, with the reason. */
  endpoint(tls: Tls, family: 4 | 6): { host: string; port: number } | string;
  /** Why a cell is not supported although the endpoint exists (e.g. no active mode). */
  unsupported?: (tls: Tls, family: 4 | 6, passive: boolean) => string | undefined;
  /** Scenarios the server does not offer, with the reason. */
  lacks: Record<string, string>;
  /** A command that works after a failed one; NOOP unless the server has none. */
  afterError?: "PWD";
  /** The server's 257 reply to MKD carries no path (so mkd() returns ""). */
  mkdWithoutPath?: true;
  start?: () => Promise<void>;
  stop?: () => Promise<void>;
}

const sha256 = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");
const SIZES: [string, number][] = [
  ["0 B", 0],
  ["1 B", 1],
  ["1 MB", 1 << 20],
  ["100 MB", 100 << 20],
];
const DATA = new Map(SIZES.map(([label, size]) => [label, randomBytes(size)]));

/**
 * What a server does not support, and why: each reason is what the server answered (or did) when
 * it was tried (servers/README.md has the transcripts' gist).
 */
interface Limits {
  unsupported?: Server["unsupported"];
  lacks?: Record<string, string>;
  afterError?: "PWD";
  mkdWithoutPath?: true;
}
const NO_TLS = (reason: string) => (tls: Tls) => (tls === "plain" ? undefined : reason);
const LIMITS: Record<string, Limits> = {
  vsftpd: { lacks: { mlsd: "vsftpd has no MLSD" } },
  aioftp: {
    unsupported: (tls, _family, passive) =>
      tls === "explicit"
        ? "aioftp has no AUTH TLS (502 'auth' not implemented): it serves TLS implicitly only"
        : passive
          ? undefined
          : "aioftp has no active mode: PORT and EPRT get 502 'port' / 'eprt' not implemented",
    lacks: {
      nlst: "aioftp has no NLST (502 'nlst' not implemented)",
      size: "aioftp has no SIZE (502 'size' not implemented)",
    },
    // 502 'noop' not implemented
    afterError: "PWD",
    // MKD answers "257 " with no text
    mkdWithoutPath: true,
  },
  twisted: {
    unsupported: (tls, family) =>
      tls !== "plain"
        ? "Twisted's FTP server has no TLS (AUTH TLS: 502 Command 'AUTH' not implemented)"
        : family === 6
          ? "Twisted's FTP server has no EPSV or EPRT (502), and its PASV on an IPv6 connection answers " +
            "227 Entering Passive Mode (::1,101,244). (not an address a 227 can carry): IPv4 only"
          : undefined,
    lacks: {
      "rest resume": "Twisted has no REST (502 Command 'REST' not implemented)",
      nlst: "Twisted refuses NLST without an argument (500 Syntax error: NLST requires an argument.)",
      mlsd: "Twisted has no MLSD (502 Command 'MLSD' not implemented)",
      "storLines and retrLines":
        "Twisted cannot store in TYPE A on Python 3: its ASCIIConsumerWrapper calls bytes.replace() with str " +
        "arguments (TypeError in its log), and every such upload ends 426 Transfer aborted.  Data connection closed.",
      "non-ASCII names":
        "Twisted decodes commands as latin-1 but sends listings in UTF-8: STOR of ü.txt (c3 bc) creates Ã¼.txt " +
        "on disk, which NLST lists as c3 83 c2 bc",
    },
  },
  inetutils: {
    unsupported: NO_TLS("inetutils-ftpd has no TLS (AUTH TLS: 502 AUTH command not implemented.)"),
    lacks: { mlsd: "inetutils-ftpd has no MLSD (500 'MLSD': command not recognized)" },
  },
  nodeftpd: {
    unsupported: (tls, family, passive) =>
      tls === "explicit"
        ? "nodeftpd crashes on AUTH TLS under Node 20: when the handshake completes, its starttls.js " +
          "throws TypeError (tls.createSecurePair's pair has no .ssl) and the whole server exits; run without TLS"
        : tls === "implicit"
          ? "nodeftpd has no implicit TLS"
          : family === 6 && !passive
            ? "nodeftpd has no IPv6 active mode (EPRT |2|...: 522 Server cannot handle IPv6 EPRT commands, use (1))"
            : undefined,
    lacks: {
      "rest resume": "nodeftpd has no REST (502 Command not implemented.)",
      mlsd: "nodeftpd has no MLSD (502 Command not implemented.)",
    },
  },
  netkit: {
    unsupported: NO_TLS(
      "netkit ftpd's TLS never loads the certificate (the -z cert= file is never opened): AUTH TLS gets " +
        "234, then every handshake fails (no shared cipher, 421); it runs with -z nossl",
    ),
    lacks: { mlsd: "netkit ftpd has no MLSD (500 'MLSD': command not understood.)" },
  },
};

/** The servers of servers/servers.sh, as it describes them. */
function debianServers(): Server[] {
  return realServers({ all: true }).map((s) => {
    const limits = LIMITS[s.name] ?? {};
    return {
      name: `${s.name} ${s.version ?? ""}`.trim(),
      user: s.user,
      password: s.password,
      root: s.root,
      ca: readFileSync(s.ca!, "utf8"),
      endpoint(tls, family) {
        const kinds = tls === "plain" ? ["explicit", "none"] : [tls];
        const e = s.endpoints.find((x) => kinds.includes(x.tls) && x.family === family);
        if (e === undefined) return tls === "implicit" ? `${s.name} here has no implicit TLS` : "no such endpoint";
        return { host: e.host, port: e.port };
      },
      ...(limits.unsupported === undefined ? {} : { unsupported: limits.unsupported }),
      lacks: limits.lacks ?? {},
      ...(limits.afterError === undefined ? {} : { afterError: limits.afterError }),
      ...(limits.mkdWithoutPath === undefined ? {} : { mkdWithoutPath: limits.mkdWithoutPath }),
    };
  });
}

/** ftp-srv from npm, embedded: one instance per mode and family, started on demand. */
function embeddedServer(): Server {
  const instances = new Map<string, Awaited<ReturnType<typeof startEmbeddedServer>>>();
  const key = (tls: Tls, family: 4 | 6) => `${tls}/${family}`;
  let root = "";
  return {
    name: "ftp-srv 4.6.3 (npm)",
    user: "ftplib",
    password: "secret-pass",
    get root() {
      return root;
    },
    ca: testTls.ca,
    endpoint(tls, family) {
      const server = instances.get(key(tls, family));
      return server === undefined ? "not started" : { host: server.host, port: server.port };
    },
    lacks: {
      mlsd: "ftp-srv has no MLSD",
      abort: "ftp-srv stalls or answers out of order when a transfer is aborted (server defect)",
    },
    async start() {
      for (const tls of ["plain", "explicit", "implicit"] as const) {
        for (const family of [4, 6] as const) {
          const host = family === 4 ? "127.0.0.1" : "::1";
          const first = instances.values().next().value;
          const server = await startEmbeddedServer(host, {
            ...(tls === "plain" ? {} : { tls: { key: testTls.key, cert: testTls.cert }, implicit: tls === "implicit" }),
            ...(first === undefined ? {} : { root: first.root }),
          });
          root ||= server.root;
          instances.set(key(tls, family), server);
        }
      }
    },
    async stop() {
      for (const server of instances.values()) await server.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

interface Outcome {
  server: string;
  tls: Tls;
  mode: "passive" | "active";
  family: "IPv4" | "IPv6";
  status: "pass" | "fail" | "not supported";
  reason?: string;
  scenarios: Record<string, { status: "pass" | "fail" | "not offered"; detail?: string }>;
}
const outcomes: Outcome[] = [];

const servers: Server[] = (wanted ? [embeddedServer(), ...debianServers()] : []).filter(
  (s) => only === undefined || only.includes(s.name.split(" ")[0]!),
);

describe.runIf(wanted)("interop matrix", () => {
  beforeAll(async () => {
    for (const server of servers) await server.start?.();
  }, 60_000);
  afterAll(async () => {
    for (const server of servers) await server.stop?.();
    writeMatrix();
  });

  it("has the servers of servers/servers.sh running", () => {
    expect(servers.length).toBeGreaterThan(only === undefined ? 1 : 0);
  });

  for (const server of servers) {
    for (const tls of ["plain", "explicit", "implicit"] as const) {
      for (const family of [4, 6] as const) {
        for (const passive of [true, false]) {
          defineCell(server, tls, family, passive);
        }
      }
    }
  }
});

function defineCell(server: Server, tls: Tls, family: 4 | 6, passive: boolean): void {
  const outcome: Outcome = {
    server: server.name,
    tls,
    mode: passive ? "passive" : "active",
    family: family === 4 ? "IPv4" : "IPv6",
    status: "pass",
    scenarios: {},
  };
  outcomes.push(outcome);
  describe(`${server.name} ${tls} ${outcome.family} ${outcome.mode}`, () => {
    let ftp: FTP;
    let dir = "";
    let local = "";
    let supported = true;
    let failed = false;

    const open = async (): Promise<FTP> => {
      const endpoint = server.endpoint(tls, family) as { host: string; port: number };
      const options = { ...endpoint, user: server.user, password: server.password, timeout: 15_000, passive };
      if (tls === "plain") return FTP.open(options);
      const secure = await FTP_TLS.open({ ...options, implicit: tls === "implicit", tls: { ca: server.ca } });
      if (!secure.dataProtected) await secure.protP(); // implicit: protected at login
      return secure;
    };

    beforeAll(async () => {
      const endpoint = server.unsupported?.(tls, family, passive) ?? server.endpoint(tls, family);
      if (typeof endpoint === "string") {
        supported = false;
        outcome.status = "not supported";
        outcome.reason = endpoint;
        return;
      }
      ftp = await open();
      dir = `interop-${tls}-${family}-${outcome.mode}`;
      local = join(server.root, dir);
      await rm(local, { recursive: true, force: true });
      await ftp.mkd(dir);
      await ftp.cwd(dir);
    }, 30_000);
    afterAll(async () => {
      ftp?.close();
      if (local !== "") await rm(local, { recursive: true, force: true });
    });

    /**
     * `instead`: where the server lacks the scenario, what the later ones need from it. A `run`
     * that returns a reason found the feature not offered (in FEAT) and checked the fallback.
     */
    const scenario = (
      name: string,
      run: () => Promise<void | string> | void,
      key = name,
      instead?: () => Promise<void>,
    ) => {
      it(
        name,
        async (context) => {
          if (!supported) return context.skip();
          const lacking = server.lacks[key];
          if (lacking !== undefined) {
            outcome.scenarios[name] = { status: "not offered", detail: lacking };
            await instead?.();
            return context.skip();
          }
          try {
            // A failed scenario may have left the session unusable: the next one gets a new one.
            if (failed) {
              ftp.close();
              ftp = await open();
              await ftp.cwd(dir);
              failed = false;
            }
            const lacking = await run();
            outcome.scenarios[name] =
              lacking === undefined ? { status: "pass" } : { status: "not offered", detail: lacking };
          } catch (error) {
            failed = true;
            outcome.status = "fail";
            outcome.scenarios[name] = { status: "fail", detail: String(error).slice(0, 200) };
            throw error;
          }
        },
        60_000,
      );
    };

    scenario("login and welcome", () => {
      expect(ftp.getWelcome()).toMatch(/^220/);
    });
    scenario("pwd, cwd, cdup", async () => {
      const base = await ftp.pwd();
      await ftp.mkd("sub");
      await ftp.cwd("sub");
      expect(await ftp.pwd()).toBe(`${base}/sub`);
      await ftp.cwd("..");
      expect(await ftp.pwd()).toBe(base);
    });
    scenario("mkd, rmd", async () => {
      if (server.mkdWithoutPath) {
        expect(await ftp.mkd("made")).toBe("");
        expect(existsSync(join(local, "made"))).toBe(true);
      } else expect(await ftp.mkd("made")).toMatch(/made$/);
      expect(await ftp.rmd("made")).toMatch(/^2/);
    });
    for (const [label] of SIZES) {
      scenario(`storBinary and retrBinary, ${label}, sha256`, async () => {
        const data = DATA.get(label)!;
        const name = `file-${label.replace(/ /g, "")}.bin`;
        await ftp.storBinary(`STOR ${name}`, data);
        expect(sha256(await readFile(join(local, name)))).toBe(sha256(data));
        const hash = createHash("sha256");
        let length = 0;
        await ftp.retrBinary(`RETR ${name}`, (block) => {
          hash.update(block);
          length += block.length;
        });
        expect(length).toBe(data.length);
        expect(hash.digest("hex")).toBe(sha256(data));
      });
    }
    scenario(
      "storLines and retrLines",
      async () => {
        await ftp.storLines("STOR lines.txt", "one\ntwo\r\nthree");
        const lines: string[] = [];
        await ftp.retrLines("RETR lines.txt", (line) => lines.push(line));
        expect(lines).toEqual(["one", "two", "three"]);
      },
      undefined,
      // the listings and the rename below look for lines.txt
      async () => void (await ftp.storBinary("STOR lines.txt", "one\r\ntwo\r\nthree\r\n")),
    );
    scenario("rest resume", async () => {
      const data = DATA.get("1 MB")!;
      const parts: Buffer[] = [];
      await ftp.retrBinary("RETR file-1MB.bin", (block) => parts.push(Buffer.from(block)), { rest: 1000 });
      expect(sha256(Buffer.concat(parts))).toBe(sha256(data.subarray(1000)));
    });
    /** Names in the current directory: NLST, or where the server has none, LIST's last fields. */
    const names = async (): Promise<string[]> => {
      if (server.lacks.nlst === undefined) return (await ftp.nlst()).map((n) => n.replace(/^.*\//, ""));
      const lines: string[] = [];
      await ftp.dir((line) => lines.push(line));
      return lines;
    };
    const listed = async (name: string): Promise<boolean> =>
      server.lacks.nlst === undefined
        ? (await names()).includes(name)
        : (await names()).some((l) => l.endsWith(` ${name}`));

    scenario("nlst", async () => {
      expect((await ftp.nlst()).map((n) => n.replace(/^.*\//, ""))).toContain("lines.txt");
    });
    scenario("dir", async () => {
      const lines: string[] = [];
      await ftp.dir((line) => lines.push(line));
      expect(lines.some((line) => line.endsWith("lines.txt"))).toBe(true);
    });
    scenario("mlsd", async () => {
      const names: string[] = [];
      for await (const [name, facts] of ftp.mlsd()) if (facts.type === "file") names.push(name);
      expect(names).toContain("lines.txt");
    });
    scenario("size", async () => {
      await ftp.voidCmd("TYPE I");
      expect(await ftp.size("file-1MB.bin")).toBe(1 << 20);
    });
    scenario("rename, delete", async () => {
      await ftp.rename("lines.txt", "renamed.txt");
      expect(await ftp.delete("renamed.txt")).toMatch(/^2/);
    });
    scenario(
      "abort mid-download, then a working command",
      async () => {
        const own = await open();
        await own.cwd(dir);
        let received = 0;
        let reply = "";
        await own.retrBinary("RETR file-100MB.bin", async (block) => {
          received += block.length;
          if (reply === "") reply = await own.abort();
        });
        expect(reply).toMatch(/^(225|226|426)/);
        expect(received).toBeLessThan(100 << 20);
        if (server.lacks.size === undefined) expect(await own.size("file-1MB.bin")).toBe(1 << 20);
        else expect(await own.pwd()).toMatch(new RegExp(`/${dir}$`));
        own.close();
      },
      "abort",
    );
    scenario("non-ASCII names", async () => {
      const name = "ünïcødé 名前 ✓.txt";
      await ftp.storBinary(`STOR ${name}`, "x");
      expect(await listed(name)).toBe(true);
      expect(await ftp.delete(name)).toMatch(/^2/);
    });
    scenario("50 sequential transfers on one connection", async () => {
      for (let i = 0; i < 50; i++) {
        const data = randomBytes(1000 + i);
        await ftp.storBinary(`STOR seq-${i}.bin`, data);
        const parts: Buffer[] = [];
        await ftp.retrBinary(`RETR seq-${i}.bin`, (block) => parts.push(Buffer.from(block)));
        expect(sha256(Buffer.concat(parts))).toBe(sha256(data));
      }
    });
    scenario("MODE Z downloads and listings, sha256", async () => {
      const data = Buffer.from(Array.from({ length: 30_000 }, (_, i) => `${i} a line of text, deflated\n`).join(""));
      await ftp.storBinary("STOR mode-z.txt", data);
      const hash = createHash("sha256");
      await ftp.retrBinary("RETR mode-z.txt", (block) => void hash.update(block), { modeZ: true });
      expect(hash.digest("hex")).toBe(sha256(data));
      const entries = await ftp.list("", { modeZ: true });
      expect(entries.some((entry) => entry.name === "mode-z.txt")).toBe(true);
      expect(await ftp.delete("mode-z.txt")).toMatch(/^2/);
      const modes = (await ftp.features()).get("MODE") ?? "";
      if (!/(^|[\s,;])Z($|[\s,;])/i.test(modes)) return "no MODE Z in FEAT: the same bytes came in stream mode";
    });
    scenario("server-side error mapped to ErrorPerm", async () => {
      await expect(ftp.retrBinary("RETR does-not-exist", () => undefined)).rejects.toBeInstanceOf(ErrorPerm);
      await expect(ftp.cwd("does-not-exist")).rejects.toMatchObject({ replyCode: 550 });
      if (server.afterError === "PWD") expect(await ftp.pwd()).toMatch(new RegExp(`/${dir}$`));
      else expect(await ftp.voidCmd("NOOP")).toMatch(/^200/);
    });
  });
}

/** One line per server and reason: the cells it covers, then why they are not supported. */
function unsupportedLines(): string[] {
  const groups = new Map<string, Outcome[]>();
  for (const o of outcomes) {
    if (o.status !== "not supported") continue;
    const key = `${o.server}\0${o.reason}`;
    groups.set(key, [...(groups.get(key) ?? []), o]);
  }
  return [...groups.values()].map((cells) => {
    const values = (pick: (o: Outcome) => string) => [...new Set(cells.map(pick))].join("/");
    const where = `${values((o) => o.tls)} ${values((o) => o.family)} ${values((o) => o.mode)}`;
    return `- ${cells[0]!.server}, ${where}: not supported (${cells[0]!.reason})`;
  });
}

function writeMatrix(): void {
  const out = fileURLToPath(new URL("../../../reports/", import.meta.url));
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, "interop.json"), `${JSON.stringify({ node: process.version, cells: outcomes }, null, 2)}\n`);
  const names = [...new Set(outcomes.map((o) => o.server))];
  const columns = ["plain", "explicit", "implicit"].flatMap((tls) =>
    ["IPv4", "IPv6"].flatMap((family) => ["passive", "active"].map((mode) => ({ tls, family, mode }))),
  );
  const cell = (o: Outcome | undefined) => {
    if (o === undefined) return "";
    if (o.status === "not supported") return "n/s";
    const offered = Object.values(o.scenarios).filter((s) => s.status !== "not offered");
    const passed = offered.filter((s) => s.status === "pass").length;
    const failed = offered.filter((s) => s.status === "fail").length;
    return failed > 0 ? `**FAIL** ${failed}` : `pass ${passed}/${offered.length}`;
  };
  const lines = [
    "# Interop matrix",
    "",
    `Made by \`pnpm test:interop\` (servers started by \`servers/servers.sh\`, ftp-srv embedded), Node ${process.version}, ${new Date().toISOString().slice(0, 10)}.`,
    "Each cell runs the scenario list on one connection: login and welcome; pwd, cwd, cdup; mkd, rmd;",
    "storBinary/retrBinary of 0 B, 1 B, 1 MB and 100 MB checked by sha256; storLines/retrLines; rest resume;",
    "nlst; dir; mlsd; size; rename, delete; abort mid-download then a working command; non-ASCII names;",
    "50 sequential transfers; MODE Z downloads and listings (stream mode where FEAT has no MODE Z);",
    "a server-side error mapped to ErrorPerm. TLS cells protect data (PROT P).",
    "`pass n/m`: n scenarios passed out of those the server offers; `n/s`: mode not supported.",
    "",
    `| server | ${columns.map((c) => `${c.tls} ${c.family} ${c.mode}`).join(" | ")} |`,
    `|---|${columns.map(() => "---").join("|")}|`,
    ...names.map(
      (name) =>
        `| ${name} | ${columns
          .map((c) =>
            cell(
              outcomes.find((o) => o.server === name && o.tls === c.tls && o.family === c.family && o.mode === c.mode),
            ),
          )
          .join(" | ")} |`,
    ),
    "",
    "## Not supported, not offered, failed",
    "",
    ...unsupportedLines(),
    ...[
      ...new Set(
        outcomes.flatMap((o) => [
          ...Object.entries(o.scenarios)
            .filter(([, s]) => s.status !== "pass")
            .map(([name, s]) =>
              s.status === "fail"
                ? `- **${o.server}, ${o.tls} ${o.family} ${o.mode}, ${name}: failed**: ${s.detail}`
                : `- ${o.server}, ${name}: not offered (${s.detail})`,
            ),
        ]),
      ),
    ],
    "",
  ];
  writeFileSync(join(out, "interop.md"), lines.join("\n"));
}
