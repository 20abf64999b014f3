/**
 * CPython's own ftplib tests (Lib/test/test_ftplib.py), driving this client. The servers are
 * CPython's dummy servers, imported unchanged from the Python installation (Debian's
 * libpython3.11-testsuite) by test/cpython/dummy_server.py, which runs them on loopback and takes
 * requests as JSON lines: what a Python test reads or sets on the server's handler
 * (`last_received_cmd`, `next_response`, ...), the test here reads or sets through it.
 *
 * Each test of TestFTPClass, TestIPv6Environment, TestTLS_FTPClassMixin, TestTLS_FTPClass and
 * TestTimeouts is here, under its Python name, and asserts what the Python test asserts. Where
 * this client differs by design, the test asserts the documented behaviour instead
 * (docs/migrating-from-ftplib.md, "CPython's test suite"); those places say "Deliberate". The
 * list of tests comes from the module itself: a test that CPython has and this file lacks fails.
 *
 * Runs with FTPLIB_CPYTHON=1 (`pnpm test:cpython`). Skipped when /usr/bin/python3 cannot import
 * test.test_ftplib, except in CI (CI=true), where that fails.
 */
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import net from "node:net";
import { Readable } from "node:stream";
import tls from "node:tls";
import { fileURLToPath } from "node:url";
import type { ByteStream, ConnectRequest, ControlStream, DataListener, Transport } from "@ftplib/protocol";
import { nodeTransport } from "@ftplib/transport";
import { type TestContext, afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  ErrorPerm,
  ErrorProto,
  ErrorReply,
  ErrorTemp,
  FTP,
  FTP_TLS,
  type FTP_TLSOptions,
  FtpConnectionError,
  FtpError,
  FtpTimeoutError,
  FtpTlsError,
  LocalProtocolError,
  RemoteProtocolError,
  allErrors,
  parse257,
} from "../src/index.js";

const PYTHON = "/usr/bin/python3";
const LAUNCHER = fileURLToPath(new URL("./cpython/dummy_server.py", import.meta.url));
const wanted = process.env.FTPLIB_CPYTHON === "1";

// --- What the Python module offers ---------------------------------------------------------

interface ModuleInfo {
  module: string;
  host: string;
  hostv6: string;
  /** Seconds (support.LOOPBACK_TIMEOUT). */
  timeout: number;
  encoding: string;
  ssl: boolean;
  certfile: string | null;
  cafile: string | null;
  data: { RETR_DATA: string; LIST_DATA: string; NLST_DATA: string; MLSD_DATA: string };
  classes: Record<string, { skip: string | null; tests: { name: string; skip: string | null }[] }>;
}

/** The module's constants and test names, or why it cannot be imported. */
function inspectModule(): ModuleInfo | string {
  const run = spawnSync(PYTHON, ["-I", LAUNCHER, "--check"], { encoding: "utf8", timeout: 60_000 });
  if (run.error !== undefined) return `${PYTHON}: ${run.error.message}`;
  try {
    const answer = JSON.parse(run.stdout) as { ok: boolean; error?: string } & ModuleInfo;
    return answer.ok ? answer : (answer.error ?? "unknown error");
  } catch {
    return run.stderr.trim() || `${PYTHON} exited with status ${run.status}`;
  }
}

const inspected = wanted ? inspectModule() : "FTPLIB_CPYTHON=1 is not set (run `pnpm test:cpython`)";
const info = typeof inspected === "string" ? undefined : inspected;
const unavailable = typeof inspected === "string" ? inspected : undefined;

// Filled from the module before any test runs.
let HOST = "localhost";
let TIMEOUT = 5000;
let DEFAULT_ENCODING = "utf-8";
let RETR_DATA = "";
let LIST_DATA = "";
let NLST_DATA = "";
let CA = "";

// --- The dummy servers, in one Python process -----------------------------------------------

type Kind = "ftp" | "ftp6" | "tls" | "timeouts";
interface Address {
  host: string;
  port: number;
}
type Json = string | number | boolean | null | { object: string };

/** The Python process that runs CPython's dummy servers, one at a time. */
class DummyServers {
  private readonly pending = new Map<
    number,
    { resolve: (answer: Record<string, unknown>) => void; reject: (error: Error) => void }
  >();
  private nextId = 1;
  private stderr = "";
  private exited = false;
  private readonly exit: Promise<void>;

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (text: string) => {
      this.stderr = (this.stderr + text).slice(-4000);
    });
    let buffered = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (text: string) => {
      buffered += text;
      for (let end = buffered.indexOf("\n"); end >= 0; end = buffered.indexOf("\n")) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 1);
        if (line.trim() !== "") this.answer(JSON.parse(line) as Record<string, unknown>);
      }
    });
    this.exit = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        this.exited = true;
        const error = new Error(`the dummy server process exited (${signal ?? code}): ${this.stderr}`);
        for (const { reject } of this.pending.values()) reject(error);
        this.pending.clear();
        resolve();
      });
    });
  }

  static async launch(): Promise<DummyServers> {
    const child = spawn(PYTHON, ["-I", LAUNCHER], { stdio: ["pipe", "pipe", "pipe"] });
    const servers = new DummyServers(child);
    // The first line says it is ready (id 0).
    await new Promise<Record<string, unknown>>((resolve, reject) => servers.pending.set(0, { resolve, reject }));
    return servers;
  }

  private answer(message: Record<string, unknown>): void {
    const id = typeof message.id === "number" ? message.id : 0;
    const waiter = this.pending.get(id);
    if (waiter === undefined) return;
    this.pending.delete(id);
    if (message.ok === true) waiter.resolve(message);
    else waiter.reject(new Error(`dummy server: ${String(message.error)}\n${this.stderr}`));
  }

  request(op: string, args: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    if (this.exited) return Promise.reject(new Error(`the dummy server process has exited: ${this.stderr}`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.stdin.write(`${JSON.stringify({ id, op, ...args })}\n`);
    });
  }

  /** Starts a server (stopping the one before): its address, on a port the OS picked. */
  async start(kind: Kind, encoding?: string): Promise<Address> {
    const { host, port } = await this.request("start", { kind, encoding });
    return { host: host as string, port: port as number };
  }

  /** An attribute of the server's `handler_instance` (a dotted path reaches `dtp.<name>`). */
  async get(attr: string): Promise<Json> {
    return (await this.request("get", { attr })).value as Json;
  }

  async set(attr: string, value: Json): Promise<void> {
    await this.request("set", { attr, value });
  }

  /** TestTimeouts: waits for the server's event (set once it has sent and shut down). */
  async wait(seconds = 20): Promise<boolean> {
    return (await this.request("wait", { timeout: seconds })).value as boolean;
  }

  async stop(): Promise<void> {
    await this.request("stop");
  }

  /** Ends the process: stdin closed makes it stop its server and exit; killed if it does not. */
  async close(): Promise<void> {
    this.child.stdin.end();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), 10_000)));
    if (await Promise.race([this.exit.then(() => false), late])) this.child.kill("SIGKILL");
    clearTimeout(timer);
    await this.exit;
  }
}

let servers: DummyServers;

/** The dummy server's `handler_instance`, as the Python tests reach it. */
const handler = {
  get: (attr: string) => servers.get(attr),
  set: (attr: string, value: Json) => servers.set(attr, value),
};

// --- ftplib's `sock`, seen through the transport ----------------------------------------------

interface Sock {
  readonly stream: ControlStream<unknown>;
  /** Each timeout set on the control connection, in order. */
  readonly timeouts: number[];
  closed: boolean;
}

/**
 * A transport that records what ftplib's tests read from `client.sock`: the connect requests,
 * the control connection (addresses, TLS, timeout) and whether it was closed. It hands every
 * call on to the Node transport.
 */
class Probe {
  readonly connects: ConnectRequest<unknown>[] = [];
  readonly socks: Sock[] = [];
  readonly transport: Transport<unknown> = {
    connect: async (request: ConnectRequest<unknown>) => {
      this.connects.push(request);
      const stream = (await nodeTransport.connect(
        request as ConnectRequest<tls.ConnectionOptions>,
      )) as ControlStream<unknown>;
      const sock: Sock = { stream, timeouts: [], closed: false };
      this.socks.push(sock);
      return new Proxy(stream, {
        get(target, key) {
          if (key === "setTimeout") {
            return (ms: number) => {
              sock.timeouts.push(ms);
              target.setTimeout(ms);
            };
          }
          if (key === "destroy") {
            return (reason?: Error) => {
              sock.closed = true;
              target.destroy(reason);
            };
          }
          const value: unknown = Reflect.get(target, key, target);
          return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
        },
      });
    },
  };

  /** ftplib's `sock`: the control connection, undefined once closed (`sock is None`). */
  get sock(): Sock | undefined {
    const sock = this.socks.at(-1);
    return sock !== undefined && !sock.closed ? sock : undefined;
  }

  /** ftplib's `sock.gettimeout()`: the control connection's timeout in ms (0: none). */
  gettimeout(): number | undefined {
    const sock = this.socks.at(-1);
    return sock?.timeouts.at(-1) ?? this.connects.at(-1)?.timeout;
  }
}

// ftplib's makepasv() and makeport() are public; here they are protected, and reached so.
class TestFTP extends FTP {
  makepasv(): Promise<[string, number]> {
    return this.run((session) => session.makePasv());
  }

  makeport(): Promise<DataListener> {
    return this.run((session) => session.makePort());
  }
}

class TestFTP_TLS extends FTP_TLS {
  makepasv(): Promise<[string, number]> {
    return this.run((session) => session.makePasv());
  }

  makeport(): Promise<DataListener> {
    return this.run((session) => session.makePort());
  }
}

type Client = TestFTP | TestFTP_TLS;

// --- Helpers --------------------------------------------------------------------------------

type ErrorClass<T> = (abstract new (...args: never[]) => T) & {
  readonly name: string;
  isInstance(value: unknown): boolean;
};

/** unittest's assertRaises: `work` (a promise, or a function) must fail with `cls`. */
async function assertRaises<T>(cls: ErrorClass<T>, work: Promise<unknown> | (() => unknown)): Promise<T> {
  let outcome: unknown;
  try {
    outcome = await (typeof work === "function" ? work() : work);
  } catch (error) {
    if (cls.isInstance(error)) return error as T;
    throw new Error(`expected ${cls.name}, got ${String(error)}`, { cause: error });
  }
  throw new Error(`expected ${cls.name}, but it returned ${JSON.stringify(outcome)}`);
}

/** socket.create_connection((host, port)).close() */
async function connectAndClose(host: string, port: number): Promise<void> {
  const socket = net.connect({ host, port });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  socket.destroy();
}

/** socket_helper.find_unused_port(): a port that was free a moment ago. */
async function findUnusedPort(host: string): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host, resolve);
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const isAddressInUse = (error: unknown) =>
  (error as { code?: string; cause?: { code?: string } }).code === "EADDRINUSE" ||
  (error as { cause?: { code?: string } }).cause?.code === "EADDRINUSE";

const concat = (blocks: readonly Uint8Array[]) => Buffer.concat(blocks);

/** Everything a data connection sends (each chunk copied: chunks are valid until the next read). */
async function readAll(conn: ByteStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for (let chunk = await conn.read(); chunk !== null; chunk = await conn.read()) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

/** io.BytesIO(data) */
const fileOf = (data: Uint8Array) => Readable.from([data]);

/** repr() in this client's terms: `sanitize` quotes as JSON does. */
const repr = (text: string) => JSON.stringify(text);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** ftplib's default FTP_TLS context verifies nothing; this client verifies: trust the dummy server's CA, for the name the tests bind (HOST). */
function tlsOptions(extra: tls.ConnectionOptions = {}): tls.ConnectionOptions {
  return { ca: CA, checkServerIdentity: (_host, cert) => tls.checkServerIdentity(HOST, cert), ...extra };
}

// --- The test cases, as in test_ftplib.py -----------------------------------------------------

abstract class Case {
  abstract setUp(): Promise<void>;
  abstract tearDown(): Promise<void>;

  check_data(received: string, expected: string): void {
    expect(received.length).toBe(expected.length);
    expect(received).toBe(expected);
  }
}

class TestFTPClass extends Case {
  server!: Address;
  client!: Client;
  probe!: Probe;

  async setUp(encoding = DEFAULT_ENCODING): Promise<void> {
    this.server = await servers.start("ftp", encoding);
    this.probe = new Probe();
    // The dummy server never answers EPSV on IPv4: PASV there, as ftplib.
    this.client = new TestFTP({ timeout: TIMEOUT, encoding, epsv: false, transport: this.probe.transport });
    await this.client.connect(this.server.host, this.server.port);
  }

  async tearDown(): Promise<void> {
    this.client?.close();
    await servers.stop();
  }

  /** A plain client of this test's server, as `ftplib.FTP(timeout=TIMEOUT)` with the `with` statement. */
  newPlainClient(): TestFTP {
    this.probe = new Probe();
    this.client = new TestFTP({ timeout: TIMEOUT, transport: this.probe.transport });
    return this.client;
  }

  test_getwelcome(): void {
    expect(this.client.getWelcome()).toBe("220 welcome");
  }

  test_sanitize(): void {
    expect(this.client.sanitize("foo")).toBe(repr("foo"));
    // Deliberate: the mask has a fixed length, not the password's.
    expect(this.client.sanitize("pass 12345")).toBe(repr("pass ********"));
    expect(this.client.sanitize("PASS 12345")).toBe(repr("PASS ********"));
  }

  async test_exceptions(): Promise<void> {
    // ftplib's ValueError (the caller's mistake) is LocalProtocolError.
    await assertRaises(LocalProtocolError, this.client.sendCmd("echo 40\r\n0"));
    await assertRaises(LocalProtocolError, this.client.sendCmd("echo 40\n0"));
    await assertRaises(LocalProtocolError, this.client.sendCmd("echo 40\r0"));
    await assertRaises(ErrorTemp, this.client.sendCmd("echo 400"));
    await assertRaises(ErrorTemp, this.client.sendCmd("echo 499"));
    await assertRaises(ErrorPerm, this.client.sendCmd("echo 500"));
    await assertRaises(ErrorPerm, this.client.sendCmd("echo 599"));
    await assertRaises(ErrorProto, this.client.sendCmd("echo 999"));
  }

  test_all_errors(): void {
    const message = "exception not included in all_errors set";
    const exceptions: Error[] = [
      new ErrorReply(message),
      new ErrorTemp(message),
      new ErrorPerm(message),
      new ErrorProto(message),
      new FtpError(message, "ERR_FTP"),
      // OSError: what the connection raises (a timeout and a TLS failure are OSErrors in Python too).
      new FtpConnectionError(message),
      new FtpTimeoutError(message),
      new FtpTlsError(message),
      // EOFError: the connection closed.
      new FtpConnectionError(message, { code: "ERR_FTP_CLOSED" }),
    ];
    for (const x of exceptions) {
      expect(
        allErrors.some((cls) => cls.isInstance(x)),
        `${x.name} is in allErrors`,
      ).toBe(true);
    }
  }

  test_set_pasv(): void {
    // passive mode is supposed to be enabled by default
    expect(this.client.passiveServer).toBe(true);
    this.client.setPasv(true);
    expect(this.client.passiveServer).toBe(true);
    this.client.setPasv(false);
    expect(this.client.passiveServer).toBe(false);
  }

  async test_voidcmd(): Promise<void> {
    await this.client.voidCmd("echo 200");
    await this.client.voidCmd("echo 299");
    await assertRaises(ErrorReply, this.client.voidCmd("echo 199"));
    await assertRaises(ErrorReply, this.client.voidCmd("echo 300"));
  }

  async test_login(): Promise<void> {
    await this.client.login();
  }

  async test_acct(): Promise<void> {
    await this.client.acct("passwd");
  }

  async test_rename(): Promise<void> {
    await this.client.rename("a", "b");
    await handler.set("next_response", "200");
    await assertRaises(ErrorReply, this.client.rename("a", "b"));
  }

  async test_delete(): Promise<void> {
    await this.client.delete("foo");
    await handler.set("next_response", "199");
    await assertRaises(ErrorReply, this.client.delete("foo"));
  }

  async test_size(): Promise<void> {
    await this.client.size("foo");
  }

  async test_mkd(): Promise<void> {
    const dir = await this.client.mkd("/foo");
    expect(dir).toBe("/foo");
  }

  async test_rmd(): Promise<void> {
    await this.client.rmd("foo");
  }

  async test_cwd(): Promise<void> {
    const dir = await this.client.cwd("/foo");
    expect(dir).toBe("250 cwd ok");
  }

  async test_pwd(): Promise<void> {
    const dir = await this.client.pwd();
    expect(dir).toBe("pwd ok");
  }

  async test_quit(): Promise<void> {
    expect(await this.client.quit()).toBe("221 quit ok");
    // Ensure the connection gets closed; sock attribute should be None
    expect(this.probe.sock).toBeUndefined();
  }

  async test_abort(): Promise<void> {
    await this.client.abort();
  }

  async test_retrbinary(): Promise<void> {
    // The blocks are kept as they come (ftplib's tests keep each block, decoded, in the callback).
    const received: Uint8Array[] = [];
    await this.client.retrBinary("retr", (data) => void received.push(data));
    this.check_data(this.client.encoding.decode(concat(received)), RETR_DATA);
  }

  async test_retrbinary_rest(): Promise<void> {
    for (const rest of [0, 10, 20]) {
      const received: Uint8Array[] = [];
      await this.client.retrBinary("retr", (data) => void received.push(data), { rest });
      this.check_data(this.client.encoding.decode(concat(received)), RETR_DATA.slice(rest));
    }
  }

  async test_retrlines(): Promise<void> {
    const received: string[] = [];
    await this.client.retrLines("retr", (line) => void received.push(line));
    this.check_data(received.join(""), RETR_DATA.replaceAll("\r\n", ""));
  }

  async test_storbinary(): Promise<void> {
    const data = this.client.encoding.encode(RETR_DATA);
    await this.client.storBinary("stor", fileOf(data));
    this.check_data((await handler.get("last_received_data")) as string, RETR_DATA);
    // test new callback arg
    const flag: null[] = [];
    await this.client.storBinary("stor", fileOf(data), { callback: () => void flag.push(null) });
    expect(flag.length).toBeGreaterThan(0);
  }

  async test_storbinary_rest(): Promise<void> {
    const data = this.client.encoding.encode(RETR_DATA.replaceAll("\r\n", "\n"));
    for (const r of [30, "30"]) {
      await this.client.storBinary("stor", fileOf(data), { rest: r });
      expect(await handler.get("rest")).toBe(String(r));
    }
  }

  async test_storlines(): Promise<void> {
    const data = this.client.encoding.encode(RETR_DATA.replaceAll("\r\n", "\n"));
    await this.client.storLines("stor", fileOf(data));
    this.check_data((await handler.get("last_received_data")) as string, RETR_DATA);
    // test new callback arg
    const flag: null[] = [];
    await this.client.storLines("stor foo", fileOf(data), () => void flag.push(null));
    expect(flag.length).toBeGreaterThan(0);

    // Deliberate: ftplib's storlines() wants a binary file and raises TypeError for a text one;
    // here a text source is taken and encoded in the session's encoding.
    const text = Readable.from([RETR_DATA.replaceAll("\r\n", "\n")]);
    await this.client.storLines("stor foo", text);
    this.check_data((await handler.get("last_received_data")) as string, RETR_DATA);
  }

  async test_nlst(): Promise<void> {
    await this.client.nlst();
    expect(await this.client.nlst()).toEqual(NLST_DATA.split("\r\n").slice(0, -1));
  }

  async test_dir(): Promise<void> {
    const l: string[] = [];
    await this.client.dir((x) => void l.push(x));
    expect(l.join("")).toBe(LIST_DATA.replaceAll("\r\n", ""));
  }

  async test_mlsd(): Promise<void> {
    const list = async <T>(entries: AsyncIterable<T>) => {
      const all: T[] = [];
      for await (const entry of entries) all.push(entry);
      return all;
    };
    await list(this.client.mlsd());
    await list(this.client.mlsd("/"));
    await list(this.client.mlsd("/", ["size", "type"]));

    const ls = await list(this.client.mlsd());
    expect(ls.length).toBeGreaterThan(0);
    for (const [name, facts] of ls) {
      expect(typeof name).toBe("string");
      // a dict: a record of fact names to values
      expect(typeof facts === "object" && facts !== null && !Array.isArray(facts)).toBe(true);
      expect(name).toBeTruthy();
      expect(Object.keys(facts)).toContain("type");
      expect(Object.keys(facts)).toContain("perm");
      expect(Object.keys(facts)).toContain("unique");
    }

    const setData = (data: string) => handler.set("next_data", data);
    /** next(self.client.mlsd()): the first entry, the rest left. */
    const first = async () => {
      const entries = this.client.mlsd();
      const result = await entries.next();
      await entries.return(undefined);
      return result;
    };

    const testEntry = async (
      line: string,
      want: { type?: string; perm?: string; unique?: string; name?: string } = {},
    ) => {
      const { type = "type", perm = "perm", unique = "unique", name = "name" } = want;
      await setData(line);
      const result = await first();
      expect(result.done).toBe(false);
      const [_name, facts] = result.value!;
      expect(_name).toBe(name);
      expect(facts.type).toBe(type);
      expect(facts.perm).toBe(perm);
      expect(facts.unique).toBe(unique);
    };

    // plain
    await testEntry("type=type;perm=perm;unique=unique; name\r\n");
    // "=" in fact value
    await testEntry("type=ty=pe;perm=perm;unique=unique; name\r\n", { type: "ty=pe" });
    await testEntry("type==type;perm=perm;unique=unique; name\r\n", { type: "=type" });
    await testEntry("type=t=y=pe;perm=perm;unique=unique; name\r\n", { type: "t=y=pe" });
    await testEntry("type=====;perm=perm;unique=unique; name\r\n", { type: "====" });
    // spaces in name
    await testEntry("type=type;perm=perm;unique=unique; na me\r\n", { name: "na me" });
    await testEntry("type=type;perm=perm;unique=unique; name \r\n", { name: "name " });
    await testEntry("type=type;perm=perm;unique=unique;  name\r\n", { name: " name" });
    await testEntry("type=type;perm=perm;unique=unique; n am  e\r\n", { name: "n am  e" });
    // ";" in name
    await testEntry("type=type;perm=perm;unique=unique; na;me\r\n", { name: "na;me" });
    await testEntry("type=type;perm=perm;unique=unique; ;name\r\n", { name: ";name" });
    await testEntry("type=type;perm=perm;unique=unique; ;name;\r\n", { name: ";name;" });
    await testEntry("type=type;perm=perm;unique=unique; ;;;;\r\n", { name: ";;;;" });
    // case sensitiveness
    await setData("Type=type;TyPe=perm;UNIQUE=unique; name\r\n");
    const [, facts] = (await first()).value!;
    for (const x of Object.keys(facts)) expect(x).toBe(x.toLowerCase());
    // no data (directory empty)
    await setData("");
    expect((await first()).done).toBe(true);
    await setData("");
    for await (const x of this.client.mlsd()) expect.fail(`unexpected data ${String(x)}`);
  }

  async test_makeport(): Promise<void> {
    const listener = await this.client.makeport();
    try {
      // IPv4 is in use, just make sure send_eprt has not been used
      expect(await handler.get("last_received_cmd")).toBe("port");
    } finally {
      listener.close();
    }
  }

  async test_makepasv(): Promise<void> {
    const [host, port] = await this.client.makepasv();
    await connectAndClose(host, port);
    // IPv4 is in use, just make sure send_epsv has not been used
    expect(await handler.get("last_received_cmd")).toBe("pasv");
  }

  async test_makepasv_issue43285_security_disabled(): Promise<void> {
    // Test the opt-in to the old vulnerable behavior.
    this.client.trustServerPasvIpv4Address = true;
    const [badHost, port] = await this.client.makepasv();
    expect(badHost).toBe(await handler.get("fake_pasv_server_ip"));
    // Opening and closing a connection keeps the dummy server happy
    // instead of timing out on accept.
    await connectAndClose(this.probe.sock!.stream.remoteAddress.host, port);
  }

  async test_makepasv_issue43285_security_enabled_default(): Promise<void> {
    expect(this.client.trustServerPasvIpv4Address).toBe(false);
    const [trustedHost, port] = await this.client.makepasv();
    expect(trustedHost).not.toBe(await handler.get("fake_pasv_server_ip"));
    // Opening and closing a connection keeps the dummy server happy
    // instead of timing out on accept.
    await connectAndClose(trustedHost, port);
  }

  async test_with_statement(): Promise<void> {
    await this.client.quit();

    const isClientConnected = async () => {
      if (this.probe.sock === undefined) return false;
      try {
        await this.client.sendCmd("noop");
      } catch (error) {
        if (FtpConnectionError.isInstance(error)) return false;
        throw error;
      }
      return true;
    };

    // base test
    {
      await using client = this.newPlainClient();
      await client.connect(this.server.host, this.server.port);
      await client.sendCmd("noop");
      expect(await isClientConnected()).toBe(true);
    }
    expect(await handler.get("last_received_cmd")).toBe("quit");
    expect(await isClientConnected()).toBe(false);

    // QUIT sent inside the with block
    {
      await using client = this.newPlainClient();
      await client.connect(this.server.host, this.server.port);
      await client.sendCmd("noop");
      await client.quit();
    }
    expect(await handler.get("last_received_cmd")).toBe("quit");
    expect(await isClientConnected()).toBe(false);

    // force a wrong response code to be sent on QUIT: error_perm
    // is expected and the connection is supposed to be closed
    let raised: unknown;
    try {
      await using client = this.newPlainClient();
      await client.connect(this.server.host, this.server.port);
      await client.sendCmd("noop");
      await handler.set("next_response", "550 error on quit");
    } catch (error) {
      raised = error;
    }
    if (raised === undefined) expect.fail("Exception not raised");
    expect(ErrorPerm.isInstance(raised), String(raised)).toBe(true);
    expect((raised as ErrorPerm).message).toBe("550 error on quit");
    // needed to give the threaded server some time to set the attribute
    // which otherwise would still be == 'noop'
    await sleep(100);
    expect(await handler.get("last_received_cmd")).toBe("quit");
    expect(await isClientConnected()).toBe(false);
  }

  async test_source_address(ctx: TestContext): Promise<void> {
    await this.client.quit();
    const port = await findUnusedPort(this.server.host);
    try {
      await this.client.connect(this.server.host, this.server.port, { sourceAddress: [HOST, port] });
      expect(this.probe.sock!.stream.localAddress.port).toBe(port);
      await this.client.quit();
    } catch (error) {
      if (isAddressInUse(error)) ctx.skip(`couldn't bind to port ${port}`);
      throw error;
    }
  }

  async test_source_address_passive_connection(ctx: TestContext): Promise<void> {
    const port = await findUnusedPort(this.server.host);
    this.client.sourceAddress = [HOST, port];
    try {
      const sock = await this.client.transferCmd("list");
      try {
        expect(sock.localAddress.port).toBe(port);
      } finally {
        sock.destroy();
      }
    } catch (error) {
      if (isAddressInUse(error)) ctx.skip(`couldn't bind to port ${port}`);
      throw error;
    }
  }

  async test_parse257(): Promise<void> {
    expect(parse257('257 "/foo/bar"')).toBe("/foo/bar");
    expect(parse257('257 "/foo/bar" created')).toBe("/foo/bar");
    expect(parse257('257 ""')).toBe("");
    expect(parse257('257 "" created')).toBe("");
    await assertRaises(ErrorReply, () => parse257('250 "/foo/bar"'));
    // The 257 response is supposed to include the directory
    // name and in case it contains embedded double-quotes
    // they must be doubled (see RFC-959, chapter 7, appendix 2).
    expect(parse257('257 "/foo/b""ar"')).toBe('/foo/b"ar');
    expect(parse257('257 "/foo/b""ar" created')).toBe('/foo/b"ar');
  }

  async test_line_too_long(): Promise<void> {
    // Deliberate: ftplib sends the 16 KiB line and fails on the server's over-long reply
    // (ftplib.Error). Here it is refused before a byte is sent: a command starts with a verb of
    // 1 to 32 letters. A programming mistake, so a LocalProtocolError, which is no FtpError.
    const error = await assertRaises(LocalProtocolError, this.client.sendCmd("x".repeat(this.client.maxline * 2)));
    expect(error.code).toBe("ERR_FTP_INVALID_COMMAND");
  }

  async test_retrlines_too_long(): Promise<void> {
    await this.client.sendCmd(`SETLONGRETR ${this.client.maxline * 2}`);
    const received: string[] = [];
    await assertRaises(
      FtpError,
      this.client.retrLines("retr", (line) => void received.push(line)),
    );
  }

  async test_storlines_too_long(): Promise<void> {
    const f = fileOf(new Uint8Array(this.client.maxline * 2).fill(0x78));
    await assertRaises(FtpError, this.client.storLines("stor", f));
  }

  async test_encoding_param(): Promise<void> {
    for (const encoding of ["latin-1", "utf-8"]) {
      await this.tearDown();
      await this.setUp(encoding);
      expect(this.client.encoding.name).toBe(encoding);
      await this.test_retrbinary();
      await this.test_storbinary();
      await this.test_retrlines();
      const newDir = await this.client.mkd("/non-ascii dir \xAE");
      this.check_data(newDir, "/non-ascii dir \xAE");
    }
    // Check default encoding
    const client = new FTP({ timeout: TIMEOUT });
    expect(client.encoding.name).toBe(DEFAULT_ENCODING);
  }
}

class TestIPv6Environment extends Case {
  server!: Address;
  client!: TestFTP;
  probe!: Probe;

  async setUp(): Promise<void> {
    this.server = await servers.start("ftp6", DEFAULT_ENCODING);
    this.probe = new Probe();
    this.client = new TestFTP({ timeout: TIMEOUT, encoding: DEFAULT_ENCODING, transport: this.probe.transport });
    await this.client.connect(this.server.host, this.server.port);
  }

  async tearDown(): Promise<void> {
    this.client?.close();
    await servers.stop();
  }

  test_af(): void {
    // ftplib's af: the control connection's address family.
    expect(this.probe.sock!.stream.localAddress.family).toBe("IPv6");
  }

  async test_makeport(): Promise<void> {
    const listener = await this.client.makeport();
    try {
      expect(await handler.get("last_received_cmd")).toBe("eprt");
    } finally {
      listener.close();
    }
  }

  async test_makepasv(): Promise<void> {
    const [host, port] = await this.client.makepasv();
    await connectAndClose(host, port);
    expect(await handler.get("last_received_cmd")).toBe("epsv");
  }

  async test_transfer(): Promise<void> {
    const retr = async () => {
      const received: Uint8Array[] = [];
      await this.client.retrBinary("retr", (data) => void received.push(data));
      const text = this.client.encoding.decode(concat(received));
      expect(text.length).toBe(RETR_DATA.length);
      expect(text).toBe(RETR_DATA);
    };
    this.client.setPasv(true);
    await retr();
    this.client.setPasv(false);
    await retr();
  }
}

/** Repeat TestFTPClass tests starting the TLS layer for both control and data connections first. */
class TestTLS_FTPClassMixin extends TestFTPClass {
  override async setUp(encoding = DEFAULT_ENCODING): Promise<void> {
    this.server = await servers.start("tls", encoding);
    this.probe = new Probe();
    const client = new TestFTP_TLS({
      timeout: TIMEOUT,
      encoding,
      epsv: false,
      tls: tlsOptions(),
      transport: this.probe.transport,
    });
    this.client = client;
    await client.connect(this.server.host, this.server.port);
    // enable TLS
    await client.auth();
    await client.protP();
  }
}

/** Specific TLS_FTP class tests. */
class TestTLS_FTPClass extends Case {
  server!: Address;
  client!: TestFTP_TLS;
  probe!: Probe;

  newClient(options: FTP_TLSOptions = {}): TestFTP_TLS {
    this.probe = new Probe();
    this.client = new TestFTP_TLS({
      timeout: TIMEOUT,
      epsv: false,
      tls: tlsOptions(),
      transport: this.probe.transport,
      ...options,
    });
    return this.client;
  }

  async setUp(): Promise<void> {
    this.server = await servers.start("tls", DEFAULT_ENCODING);
    await this.newClient().connect(this.server.host, this.server.port);
  }

  async tearDown(): Promise<void> {
    this.client?.close();
    await servers.stop();
  }

  async test_control_connection(): Promise<void> {
    expect(this.client.secure).toBe(false);
    await this.client.auth();
    expect(this.client.secure).toBe(true);
  }

  async test_data_connection(): Promise<void> {
    const listData = this.client.encoding.encode(LIST_DATA);
    // clear text
    let sock = await this.client.transferCmd("list");
    try {
      expect(sock.secure).toBe(false);
      expect((await readAll(sock)).toString("latin1")).toBe(Buffer.from(listData).toString("latin1"));
    } finally {
      sock.destroy();
    }
    expect(await this.client.voidResp()).toBe("226 transfer complete");

    // secured, after PROT P
    await this.client.protP();
    sock = await this.client.transferCmd("list");
    try {
      // read, so that the handshake completes
      const data = await readAll(sock);
      expect(sock.secure).toBe(true);
      expect(data.toString("latin1")).toBe(Buffer.from(listData).toString("latin1"));
    } finally {
      sock.destroy();
    }
    expect(await this.client.voidResp()).toBe("226 transfer complete");

    // PROT C is issued, the connection must be in cleartext again
    await this.client.protC();
    sock = await this.client.transferCmd("list");
    try {
      expect(sock.secure).toBe(false);
      expect((await readAll(sock)).toString("latin1")).toBe(Buffer.from(listData).toString("latin1"));
    } finally {
      sock.destroy();
    }
    expect(await this.client.voidResp()).toBe("226 transfer complete");
  }

  async test_login(): Promise<void> {
    // login() is supposed to implicitly secure the control connection
    expect(this.client.secure).toBe(false);
    await this.client.login();
    expect(this.client.secure).toBe(true);
    // make sure that AUTH TLS doesn't get issued again
    await this.client.login();
  }

  async test_auth_issued_twice(): Promise<void> {
    await this.client.auth();
    await assertRaises(LocalProtocolError, this.client.auth());
  }

  async test_context(): Promise<void> {
    await this.client.quit();
    // ftplib refuses keyfile or certfile beside a context (ValueError). Here the key and the
    // certificate are TLS options beside `secureContext`, which Node would ignore silently.
    const certfile = readFileSync(info!.certfile!, "utf8");
    const ctx = tls.createSecureContext({ ca: CA });
    const invalid = (error: unknown) => (error as { code?: string }).code === "ERR_FTP_INVALID_OPTION";
    expect(() => new FTP_TLS({ tls: { key: certfile, secureContext: ctx } })).toThrow(expect.toSatisfy(invalid));
    expect(() => new FTP_TLS({ tls: { cert: certfile, secureContext: ctx } })).toThrow(expect.toSatisfy(invalid));
    expect(() => new FTP_TLS({ tls: { cert: certfile, key: certfile, secureContext: ctx } })).toThrow(
      expect.toSatisfy(invalid),
    );

    // The context is the only place that trusts the dummy server's CA: a handshake that passes
    // verification used it. checkServerIdentity counts the handshakes.
    const checked: string[] = [];
    const checkServerIdentity = (host: string, cert: tls.PeerCertificate) => {
      checked.push(String(cert.subject.CN));
      return tls.checkServerIdentity(HOST, cert);
    };
    const client = this.newClient({ tls: { secureContext: ctx, checkServerIdentity } });
    await client.connect(this.server.host, this.server.port);
    expect(client.secure).toBe(false);
    await client.auth();
    expect(checked).toEqual(["localhost"]);
    expect(client.secure).toBe(true);

    await client.protP();
    const sock = await client.transferCmd("list");
    try {
      await readAll(sock);
      expect(checked).toEqual(["localhost", "localhost"]);
      expect(sock.secure).toBe(true);
    } finally {
      sock.destroy();
    }
  }

  async test_ccc(): Promise<void> {
    await assertRaises(LocalProtocolError, this.client.ccc());
    await this.client.login("", "", "", true);
    expect(this.client.secure).toBe(true);
    await this.client.ccc();
    // sock.unwrap() raises ValueError: the connection is in the clear again
    expect(this.client.secure).toBe(false);
  }

  async test_check_hostname(): Promise<void> {
    // CPython skips this test (bpo-32706), and so does this file, where it passes.
    await this.client.quit();
    const client = this.newClient({ tls: { ca: CA } });

    // 127.0.0.1 doesn't match SAN
    await client.connect(this.server.host, this.server.port);
    await assertRaises(FtpTlsError, client.auth());
    // exception quits connection

    await client.connect(this.server.host, this.server.port);
    await client.protP();
    // The handshake of a data connection happens on its first use. The transfer stays open
    // until its final reply, which the dummy server never sends after a failed handshake:
    // abort() ends it.
    const refused = await client.transferCmd("list");
    try {
      await assertRaises(FtpTlsError, refused.read());
    } finally {
      refused.destroy();
    }
    await client.abort();
    await client.quit();

    await client.connect("localhost", this.server.port);
    await client.auth();
    await client.quit();

    await client.connect("localhost", this.server.port);
    await client.protP();
    const sock = await client.transferCmd("list");
    try {
      await readAll(sock);
    } finally {
      sock.destroy();
    }
  }
}

class TestTimeouts extends Case {
  server!: Address;
  probe = new Probe();

  async setUp(): Promise<void> {
    this.server = await servers.start("timeouts");
  }

  async tearDown(): Promise<void> {
    await servers.stop();
  }

  /**
   * Deliberate: the server's greeting, "1 Hola mundo\n", is no valid reply. ftplib takes it;
   * this client refuses it (RemoteProtocolError, an ErrorProto), so each connect() here fails,
   * after the timeout was set.
   */
  async connectRefused(connect: Promise<unknown>): Promise<void> {
    const error = await assertRaises(RemoteProtocolError, connect);
    expect(error.code).toBe("ERR_FTP_BAD_REPLY");
  }

  async testTimeoutDefault(): Promise<void> {
    // Deliberate: no process-wide default timeout (ftplib: socket.getdefaulttimeout(), which the
    // Python test sets to 30 s); the default is 30,000 ms.
    const ftp = new FTP({ transport: this.probe.transport });
    await this.connectRefused(ftp.connect(HOST, this.server.port));
    expect(this.probe.gettimeout()).toBe(30_000);
    await servers.wait();
    ftp.close();
  }

  async testTimeoutNone(): Promise<void> {
    // no timeout -- do not use global socket timeout. Deliberate: "none" is timeout 0 here.
    const ftp = new FTP({ timeout: 0, transport: this.probe.transport });
    await this.connectRefused(ftp.connect(HOST, this.server.port));
    expect(this.probe.gettimeout()).toBe(0);
    await servers.wait();
    ftp.close();
  }

  async testTimeoutValue(): Promise<void> {
    // a value
    const ftp = new FTP({ timeout: 30_000, transport: this.probe.transport });
    await this.connectRefused(ftp.connect(HOST, this.server.port));
    expect(this.probe.gettimeout()).toBe(30_000);
    await servers.wait();
    ftp.close();

    // bpo-39259: ftplib refuses timeout=0 (a non-blocking socket). Deliberate: here 0 means no
    // timeout, as in Node's socket.setTimeout(0).
    expect(new FTP({ timeout: 0 }).timeout).toBe(0);
  }

  async testTimeoutConnect(): Promise<void> {
    const ftp = new FTP({ transport: this.probe.transport });
    await this.connectRefused(ftp.connect(HOST, this.server.port, { timeout: 30_000 }));
    expect(this.probe.gettimeout()).toBe(30_000);
    await servers.wait();
    ftp.close();
  }

  async testTimeoutDifferentOrder(): Promise<void> {
    const ftp = new FTP({ timeout: 30_000, transport: this.probe.transport });
    await this.connectRefused(ftp.connect(HOST, this.server.port));
    expect(this.probe.gettimeout()).toBe(30_000);
    await servers.wait();
    ftp.close();
  }

  async testTimeoutDirectAccess(): Promise<void> {
    const ftp = new FTP({ transport: this.probe.transport });
    ftp.timeout = 30_000;
    await this.connectRefused(ftp.connect(HOST, this.server.port));
    expect(this.probe.gettimeout()).toBe(30_000);
    await servers.wait();
    ftp.close();
  }
}

// --- Registration ---------------------------------------------------------------------------

const CASES: Record<string, new () => Case> = {
  TestFTPClass,
  TestIPv6Environment,
  TestTLS_FTPClassMixin,
  TestTLS_FTPClass,
  TestTimeouts,
};

type TestMethod = (this: Case, ctx: TestContext) => Promise<void> | void;

/** The test methods of a case class, its bases' included. */
function testMethods(cls: new () => Case): Set<string> {
  const names = new Set<string>();
  for (
    let proto = cls.prototype as object | null;
    proto !== null && proto !== Object.prototype;
    proto = Object.getPrototypeOf(proto) as object | null
  ) {
    for (const name of Object.getOwnPropertyNames(proto)) if (name.startsWith("test")) names.add(name);
  }
  return names;
}

/** One vitest test per Python test, with setUp and tearDown around each, as unittest runs them. */
function register(module: ModuleInfo, className: string, cls: new () => Case): void {
  const { skip, tests } = module.classes[className]!;
  const suite = skip === null ? describe : describe.skip;
  suite(skip === null ? className : `${className} (skipped by CPython: ${skip})`, { timeout: 30_000 }, () => {
    let current: Case | undefined;
    beforeEach(async () => {
      current = new cls();
      await current.setUp();
    }, 30_000);
    afterEach(async () => {
      const done = current;
      current = undefined;
      await done?.tearDown();
    }, 30_000);
    const translated = testMethods(cls);
    for (const { name, skip: skipped } of tests) {
      // A test that CPython skips is skipped here too.
      (skipped === null ? it : it.skip)(`${className}.${name}`, async (ctx) => {
        const method = (current as unknown as Record<string, TestMethod | undefined>)[name];
        if (!translated.has(name) || method === undefined) expect.fail(`${className}.${name} is not translated`);
        await method.call(current!, ctx);
      });
    }
    for (const name of translated) {
      if (!tests.some((test) => test.name === name)) {
        it(`${className}.${name}`, () => expect.fail(`CPython's ${className} has no ${name}`));
      }
    }
  });
}

if (info === undefined) {
  const why = `CPython's test_ftplib: skipped, ${unavailable}`;
  if (wanted && process.env.CI === "true") {
    describe("CPython's test_ftplib", () => {
      it(`test.test_ftplib can be imported by ${PYTHON}`, () => {
        expect.fail(`${unavailable} (apt-get install -y libpython3.11-testsuite)`);
      });
    });
  } else {
    if (wanted) console.warn(`${why} (apt-get install -y libpython3.11-testsuite)`);
    describe.skip(why, () => {
      it("all tests of test.test_ftplib", () => undefined);
    });
  }
} else {
  describe(`CPython's test_ftplib (${info.module})`, () => {
    beforeAll(async () => {
      HOST = info.host;
      TIMEOUT = info.timeout * 1000;
      DEFAULT_ENCODING = info.encoding;
      ({ RETR_DATA, LIST_DATA, NLST_DATA } = info.data);
      CA = info.cafile === null ? "" : readFileSync(info.cafile, "utf8");
      servers = await DummyServers.launch();
    }, 60_000);
    afterAll(async () => {
      await servers?.close();
    }, 30_000);
    for (const [name, cls] of Object.entries(CASES)) register(info, name, cls);
  });
}
