/**
 * The transcript corpus: sessions recorded from ftp-srv and the Debian servers, each one scenario
 * run against one endpoint. The same scenario code records (over RecordingTransport) and replays
 * (over ReplayTransport), so every transcript checks that the client still does, step by step,
 * what it did against the real server.
 */
import { chmod, mkdir, readFile, readdir, rm, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ErrorPerm, FTP, FTP_TLS, FtpTlsError, type Transport } from "@ftplib/client";
import { expect } from "vitest";
import { RecordingTransport, ReplayTransport, patternBytes } from "@ftplib/testing";

export const CORPUS_DIR = fileURLToPath(new URL("../transcripts/", import.meta.url));

/** Where the sessions work on each server: a directory of ours, removed afterwards. */
export const WORK_DIR = "transcripts-work";
/** The fixed time of every fixture file and directory, so that listings and MDTM do not change. */
const FIXED_TIME = new Date("2024-01-02T03:04:05Z");
export const HELLO = "Hello from the transcript fixture.\nA second line.\n";
export const PATTERN_SIZE = 100_000;

export interface CorpusTarget {
  /** `ftp-srv`, `vsftpd`, ... */
  server: string;
  version?: string;
  host: string;
  port: number;
  user: string;
  password: string;
  tls: "none" | "explicit" | "implicit";
  ca?: string;
  /** The server's data root on this machine, where the server names it in replies (ftp-srv does). */
  root?: string;
}

/** What a scenario gets: a logged-in client (over the given transport) and the target. */
export type ScenarioRun = (open: (options?: OpenOptions) => Promise<FTP>, target: CorpusTarget) => Promise<void>;

export interface OpenOptions {
  /** Passive mode (default) or active. */
  passive?: boolean;
  /** Give FTP_TLS the test CA (default), or nothing, so that the server's certificate is not trusted. */
  trusted?: boolean;
}

export interface Scenario {
  name: string;
  /** Which endpoints it runs against. */
  tls: CorpusTarget["tls"];
  /** The address family (default 4). */
  family?: 4 | 6;
  /** The only servers it runs against (a feature the others lack). */
  only?: readonly string[];
  run: ScenarioRun;
}

async function download(ftp: FTP, command: string): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  await ftp.retrBinary(command, (block) => void chunks.push(Uint8Array.from(block)));
  return Buffer.concat(chunks);
}

/** What every server answers the same way: login, directories, listings, downloads, errors. */
const browse: ScenarioRun = async (open) => {
  const ftp = await open();
  expect(await ftp.pwd()).toBe("/");
  await ftp.cwd(`${WORK_DIR}/fixture`);
  expect(await ftp.nlst()).toEqual(expect.arrayContaining(["hello.txt", "pattern.bin", "sub"]));
  const lines: string[] = [];
  await ftp.retrLines("LIST", (line) => void lines.push(line));
  expect(lines.some((line) => line.includes("hello.txt"))).toBe(true);
  const entries = await ftp.list();
  expect(entries.find((e) => e.name === "sub")?.type).toBe("dir");
  await ftp.setType("I");
  expect(await ftp.size("pattern.bin")).toBe(PATTERN_SIZE);
  expect((await ftp.lastMod("hello.txt")).toISOString()).toBe(FIXED_TIME.toISOString());
  expect(Buffer.from(await download(ftp, "RETR hello.txt")).toString()).toBe(HELLO);
  expect(Buffer.from(await download(ftp, "RETR pattern.bin")).equals(Buffer.from(patternBytes(PATTERN_SIZE)))).toBe(
    true,
  );
  await expect(ftp.cwd("no-such-dir")).rejects.toBeInstanceOf(ErrorPerm);
  await expect(download(ftp, "RETR no-such-file")).rejects.toBeInstanceOf(ErrorPerm);
  await ftp.quit();
};

/** Uploads, read back, renamed and deleted, in passive or active mode. */
function transfers(passive: boolean): ScenarioRun {
  return async (open) => {
    const ftp = await open({ passive });
    await ftp.cwd(`${WORK_DIR}/scratch`);
    const name = passive ? "up-passive" : "up-active";
    await ftp.storBinary(`STOR ${name}.bin`, patternBytes(PATTERN_SIZE));
    await ftp.storLines(`STOR ${name}.txt`, new TextEncoder().encode("one\ntwo\n"));
    await ftp.setType("I"); // proftpd and pyftpdlib refuse SIZE in ASCII mode
    expect(await ftp.size(`${name}.bin`)).toBe(PATTERN_SIZE);
    expect(Buffer.from(await download(ftp, `RETR ${name}.bin`)).equals(Buffer.from(patternBytes(PATTERN_SIZE)))).toBe(
      true,
    );
    await ftp.rename(`${name}.txt`, `${name}-renamed.txt`);
    const listed = await ftp.nlst();
    expect(listed.map((n) => n.replace(/^.*\//, ""))).toEqual(
      expect.arrayContaining([`${name}.bin`, `${name}-renamed.txt`]),
    );
    await ftp.delete(`${name}.bin`);
    await ftp.delete(`${name}-renamed.txt`);
    await expect(ftp.delete(`${name}.bin`)).rejects.toBeInstanceOf(ErrorPerm);
    await ftp.quit();
  };
}

/** FTPS as the client sees it: the switch, protected data, a listing and a download. */
const secure: ScenarioRun = (open) => secureSession(open, true);

async function secureSession(open: (options?: OpenOptions) => Promise<FTP>, passive: boolean): Promise<void> {
  const ftp = (await open({ passive })) as FTP_TLS;
  expect(ftp.secure).toBe(true);
  // Implicit FTPS sends PBSZ 0 and PROT P at login; explicit FTPS needs protP().
  if (!ftp.implicit) await ftp.protP();
  expect(ftp.dataProtected).toBe(true);
  await ftp.cwd(`${WORK_DIR}/fixture`);
  expect(await ftp.nlst()).toEqual(expect.arrayContaining(["hello.txt"]));
  expect(Buffer.from(await download(ftp, "RETR hello.txt")).toString()).toBe(HELLO);
  await ftp.quit();
}

/** CCC: TLS taken off the control connection, the session going on in the clear. */
const clearControl: ScenarioRun = async (open) => {
  const ftp = (await open()) as FTP_TLS;
  await ftp.ccc();
  expect(ftp.secure).toBe(false);
  expect(await ftp.pwd()).toBe("/");
  await ftp.quit();
};

/** A certificate the client does not trust: FtpTlsError, and nothing sent in the clear after AUTH TLS. */
const untrusted: ScenarioRun = async (open) => {
  const error = await open({ trusted: false }).catch((e: unknown) => e);
  expect(FtpTlsError.isInstance(error)).toBe(true);
};

export const SCENARIOS: readonly Scenario[] = [
  { name: "browse", tls: "none", run: browse },
  { name: "transfers-passive", tls: "none", run: transfers(true) },
  { name: "transfers-active", tls: "none", run: transfers(false) },
  { name: "transfers-active-ipv6", tls: "none", family: 6, run: transfers(false) },
  { name: "tls-explicit", tls: "explicit", run: secure },
  { name: "tls-implicit", tls: "implicit", run: secure },
  { name: "tls-active", tls: "explicit", run: (open) => secureSession(open, false) },
  { name: "tls-untrusted", tls: "explicit", run: untrusted },
  { name: "tls-ccc", tls: "explicit", only: ["pure-ftpd", "proftpd"], run: clearControl },
];

/** The file of a transcript in the corpus. */
export function corpusFile(server: string, scenario: string): string {
  return join(CORPUS_DIR, `${server}.${scenario}.txt`);
}

/** Every transcript of the corpus: [server, scenario, path]. */
export async function corpusFiles(): Promise<[string, Scenario, string][]> {
  const names = (await readdir(CORPUS_DIR)).filter((n) => n.endsWith(".txt")).sort();
  return names.map((name) => {
    const [server, scenarioName] = name.slice(0, -4).split(".") as [string, string];
    const scenario = SCENARIOS.find((s) => s.name === scenarioName);
    if (scenario === undefined) throw new Error(`${name}: no scenario ${scenarioName}`);
    return [server, scenario, join(CORPUS_DIR, name)];
  });
}

/** Puts the fixture under `root` (a server's data root), with fixed times. */
export async function prepareFixture(root: string): Promise<void> {
  const work = join(root, WORK_DIR);
  await rm(work, { recursive: true, force: true });
  await mkdir(join(work, "fixture", "sub"), { recursive: true });
  await mkdir(join(work, "scratch"), { recursive: true });
  await writeFile(join(work, "fixture", "hello.txt"), HELLO);
  await writeFile(join(work, "fixture", "pattern.bin"), patternBytes(PATTERN_SIZE));
  // Servers run as other users (nobody, ftptest): the scratch directory takes their uploads.
  await chmod(join(work, "scratch"), 0o777);
  for (const path of ["fixture/hello.txt", "fixture/pattern.bin", "fixture/sub", "fixture", "scratch", "."]) {
    await utimes(join(work, path), FIXED_TIME, FIXED_TIME);
  }
}

export async function removeFixture(root: string): Promise<void> {
  await rm(join(root, WORK_DIR), { recursive: true, force: true });
}

/**
 * What differs between two recordings of one session and is rewritten at record time: the time
 * of day, the user count and the transfer rates of pure-ftpd, pyftpdlib's 125 or 150, the data
 * root in ftp-srv's errors, the `unique` fact of MLSx (an inode).
 */
export function rewriteReply(line: string, root?: string): string {
  return (
    (root === undefined ? line : line.split(root).join("{root}"))
      .replace(/Local time is now \d\d:\d\d/, "Local time is now {time}")
      .replace(/You are user number \d+ of \d+/, "You are user number {n} of {max}")
      // pyftpdlib answers 125 when it saw the data connection before the command, 150 otherwise: a
      // race, and the same to the client (neither names a size).
      .replace(
        /^125 Data connection already open\. Transfer starting\.$/,
        "150 File status okay. About to open data connection.",
      )
      .replace(
        /^226 [\d.]+ seconds \(measured here\), [\d.]+ \w+ per second/,
        "226 {seconds} seconds (measured here), {rate} per second",
      )
  );
}

export function rewriteData(text: string): string {
  return text.replace(/unique=[^;]*;/gi, "unique={unique};");
}

function opener(target: CorpusTarget, transport: Transport): (options?: OpenOptions) => Promise<FTP> {
  return async ({ passive = true, trusted = true } = {}) => {
    const base = {
      host: target.host,
      port: target.port,
      user: target.user,
      password: target.password,
      timeout: 10_000,
      transport,
    };
    const ftp =
      target.tls === "none"
        ? await FTP.open(base)
        : await FTP_TLS.open({ ...base, implicit: target.tls === "implicit", tls: trusted ? { ca: target.ca } : {} });
    ftp.setPasv(passive);
    return ftp;
  };
}

/** Runs `scenario` against the live `target` and returns the transcript. */
export async function recordScenario(target: CorpusTarget, scenario: Scenario): Promise<string> {
  const recording = new RecordingTransport({
    comments: [`server: ${target.server}${target.version ? ` ${target.version}` : ""}`, `scenario: ${scenario.name}`],
    rewriteReply: (line) => rewriteReply(line, target.root),
    rewriteData,
  });
  await scenario.run(opener(target, recording), target);
  return recording.text();
}

/** Replays the transcript at `path` through `scenario`, with no network. */
export async function replayScenario(path: string, scenario: Scenario): Promise<ReplayTransport> {
  const replay = await ReplayTransport.fromFile(path);
  const text = await readFile(path, "utf8");
  const family = /^connect ipv6/m.test(text) ? "::1" : "127.0.0.1";
  const user = /^> USER (.*)$/m.exec(text)?.[1] ?? "anonymous";
  // The password is masked in the transcript: any one matches.
  const target: CorpusTarget = { server: "replay", host: family, port: 21, user, password: "any", tls: scenario.tls };
  await scenario.run(opener(target, replay), target);
  replay.assertComplete();
  return replay;
}
