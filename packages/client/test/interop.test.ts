/**
 * The interop matrix: one scenario list against every server in every mode it supports (plain,
 * explicit TLS, implicit TLS; passive and active; IPv4 and IPv6). Writes the matrix to
 * reports/interop.md and reports/interop.json. Runs with FTPLIB_INTEROP=1 (`pnpm test:interop`),
 * with the Debian servers started by servers/servers.sh and ftp-srv embedded.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { realServers, startEmbeddedServer, testTls } from "@ftplib/test-servers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorPerm, FTP, FTP_TLS } from "../src/index.js";

const wanted = process.env.FTPLIB_INTEROP === "1";
type Tls = "plain" | "explicit" | "implicit";

interface Server {
  name: string;
  user: string;
  password: string;
  root: string;
  ca: string;
  /** host and port by TLS mode and family; absent: not supported, with the reason. */
  endpoint(tls: Tls, family: 4 | 6): { host: string; port: number } | string;
  /** Scenarios the server does not offer, with the reason. */
  lacks: Record<string, string>;
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

/** The Debian servers, as servers/servers.sh describes them. */
function debianServers(): Server[] {
  return realServers().map((s) => ({
    name: `${s.name} ${s.version ?? ""}`.trim(),
    user: s.user,
    password: s.password,
    root: s.root,
    ca: readFileSync(s.ca!, "utf8"),
    endpoint(tls, family) {
      const kind = tls === "implicit" ? "implicit" : "explicit";
      const e = s.endpoints.find((x) => x.tls === kind && x.family === family);
      if (e === undefined) return tls === "implicit" ? `${s.name} here has no implicit TLS` : "no such endpoint";
      return { host: e.host, port: e.port };
    },
    lacks: (s.name === "vsftpd" ? { mlsd: "vsftpd has no MLSD" } : {}) as Record<string, string>,
  }));
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

const servers: Server[] = wanted ? [embeddedServer(), ...debianServers()] : [];

describe.runIf(wanted)("interop matrix", () => {
  beforeAll(async () => {
    for (const server of servers) await server.start?.();
  }, 60_000);
  afterAll(async () => {
    for (const server of servers) await server.stop?.();
    writeMatrix();
  });

  it("has the Debian servers running", () => {
    expect(servers.length).toBeGreaterThan(1);
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

    const open = async (): Promise<FTP> => {
      const endpoint = server.endpoint(tls, family) as { host: string; port: number };
      const options = { ...endpoint, user: server.user, password: server.password, timeout: 15_000, passive };
      if (tls === "plain") return FTP.open(options);
      const secure = await FTP_TLS.open({ ...options, implicit: tls === "implicit", tls: { ca: server.ca } });
      await secure.protP();
      return secure;
    };

    beforeAll(async () => {
      const endpoint = server.endpoint(tls, family);
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

    const scenario = (name: string, run: () => Promise<void>, key = name) => {
      it(name, async (context) => {
        if (!supported) return context.skip();
        const lacking = server.lacks[key];
        if (lacking !== undefined) {
          outcome.scenarios[name] = { status: "not offered", detail: lacking };
          return context.skip();
        }
        try {
          await run();
          outcome.scenarios[name] = { status: "pass" };
        } catch (error) {
          outcome.status = "fail";
          outcome.scenarios[name] = { status: "fail", detail: String(error).slice(0, 200) };
          throw error;
        }
      }, 60_000);
    };

    scenario("login and welcome", async () => {
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
      expect(await ftp.mkd("made")).toMatch(/made$/);
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
    scenario("storLines and retrLines", async () => {
      await ftp.storLines("STOR lines.txt", "one\ntwo\r\nthree");
      const lines: string[] = [];
      await ftp.retrLines("RETR lines.txt", (line) => lines.push(line));
      expect(lines).toEqual(["one", "two", "three"]);
    });
    scenario("rest resume", async () => {
      const data = DATA.get("1 MB")!;
      const parts: Buffer[] = [];
      await ftp.retrBinary("RETR file-1MB.bin", (block) => parts.push(Buffer.from(block)), { rest: 1000 });
      expect(sha256(Buffer.concat(parts))).toBe(sha256(data.subarray(1000)));
    });
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
        expect(await own.size("file-1MB.bin")).toBe(1 << 20);
        own.close();
      },
      "abort",
    );
    scenario("non-ASCII names", async () => {
      const name = "ünïcødé 名前 ✓.txt";
      await ftp.storBinary(`STOR ${name}`, "x");
      expect((await ftp.nlst()).map((n) => n.replace(/^.*\//, ""))).toContain(name);
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
    scenario("server-side error mapped to ErrorPerm", async () => {
      await expect(ftp.retrBinary("RETR does-not-exist", () => undefined)).rejects.toBeInstanceOf(ErrorPerm);
      await expect(ftp.cwd("does-not-exist")).rejects.toMatchObject({ replyCode: 550 });
      expect(await ftp.voidCmd("NOOP")).toMatch(/^200/);
    });
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
    "50 sequential transfers; a server-side error mapped to ErrorPerm. TLS cells protect data (PROT P).",
    "`pass n/m`: n scenarios passed out of those the server offers; `n/s`: mode not supported.",
    "",
    `| server | ${columns.map((c) => `${c.tls} ${c.family} ${c.mode}`).join(" | ")} |`,
    `|---|${columns.map(() => "---").join("|")}|`,
    ...names.map(
      (name) =>
        `| ${name} | ${columns
          .map((c) => cell(outcomes.find((o) => o.server === name && o.tls === c.tls && o.family === c.family && o.mode === c.mode)))
          .join(" | ")} |`,
    ),
    "",
    "## Not supported, not offered, failed",
    "",
    ...[
      ...new Set(
        outcomes.flatMap((o) => [
          ...(o.status === "not supported" ? [`- ${o.server}, ${o.tls}: ${o.reason}`] : []),
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
