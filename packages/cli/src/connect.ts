/**
 * From a URL and the command line's options to a logged-in client: credentials from the URL, the
 * options, the environment or .netrc; plain FTP, explicit or implicit TLS; passive or active.
 */
import { readFile } from "node:fs/promises";
import { isIP } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { ErrorPerm, ErrorReply, ErrorTemp, FTP, FTP_TLS, type FTPOptions, type RateLimiter } from "@ftplib/client";
import { CliError, ExitCode, type ExitCodeValue } from "./exit-codes.js";
import { readNetrc } from "./netrc.js";
import type { FtpTarget, TlsMode } from "./url.js";

export interface ConnectSettings {
  user?: string;
  password?: string;
  /** A netrc file to read instead of `~/.netrc`; null: read none. */
  netrc?: string | null;
  /** AUTH TLS on an ftp:// URL. */
  tls: boolean;
  active: boolean;
  /** A PEM file of certificate authorities to trust. */
  ca?: string;
  /** Accept any certificate. */
  insecure: boolean;
  /** Milliseconds; undefined: the client's default. */
  timeout?: number;
  debug: boolean;
  /** MODE Z (deflate) where the server offers it: downloads and listings, and uploads (`-z`). */
  modeZ: boolean;
  /** --limit-rate: one limiter that every connection of the run shares. */
  rateLimit?: RateLimiter;
  /** Where warnings and debug lines go. */
  log: (line: string) => void;
}

export interface Credentials {
  user: string;
  password: string;
  account: string;
}

/**
 * Who to log in as: the URL's user and password first, then --user/--password (or
 * FTPLIB_PASSWORD), then the netrc entry for the host, then anonymous.
 */
export async function credentialsFor(
  target: FtpTarget,
  settings: ConnectSettings,
  env: NodeJS.ProcessEnv,
): Promise<Credentials> {
  const user = target.user ?? settings.user;
  let password = target.password ?? settings.password ?? (user !== undefined ? env.FTPLIB_PASSWORD : undefined);
  let account = "";
  let login = user;
  if (password === undefined && settings.netrc !== null) {
    const entry = await readNetrc(target.host, user, settings.netrc, settings.log).catch((error: unknown) => {
      throw new CliError(
        `cannot read the netrc file ${settings.netrc ?? "~/.netrc"}: ${(error as Error).message}`,
        ExitCode.LOCAL,
        { cause: error },
      );
    });
    if (entry !== undefined) {
      login ??= entry.login;
      password = entry.password;
      account = entry.account ?? "";
    }
  }
  return { user: login ?? "anonymous", password: password ?? "", account };
}

function tlsModeOf(target: FtpTarget, settings: ConnectSettings): TlsMode {
  return target.tls === "none" && settings.tls ? "explicit" : target.tls;
}

/**
 * The TLS options of a run: the --ca file read, and the --insecure warning printed. The caller
 * makes them once per run, at its first TLS connection.
 */
export async function tlsOptionsFor(settings: ConnectSettings): Promise<Record<string, unknown>> {
  const tls: Record<string, unknown> = {};
  const path = settings.ca;
  if (path !== undefined) {
    tls.ca = await readFile(path, "utf8").catch((error: unknown) => {
      throw new CliError(`cannot read the CA file ${path}: ${(error as Error).message}`, ExitCode.LOCAL, {
        cause: error,
      });
    });
  }
  if (settings.insecure) {
    tls.rejectUnauthorized = false;
    settings.log(
      "WARNING: --insecure: the server's certificate is NOT checked. Anyone between you and the server can read and change this session, password included.",
    );
  }
  return tls;
}

/** A reply refusing a step, as the command line's error with `exitCode`; any other error as it is. */
function refusal(error: unknown, what: string, exitCode: ExitCodeValue): unknown {
  if (!(ErrorPerm.isInstance(error) || ErrorTemp.isInstance(error) || ErrorReply.isInstance(error))) return error;
  return new CliError(`${what}: ${(error as Error).message}`, exitCode, { cause: error });
}

/**
 * Connects and logs in. A refused login is `ExitCode.LOGIN`; TLS connections get PROT P (data
 * protected too), with the run's `tlsOptions` (see `tlsOptionsFor`). `session`: a TLS session to
 * resume (a mirror's further connections).
 */
export async function openClient(
  target: FtpTarget,
  credentials: Credentials,
  settings: ConnectSettings,
  tlsOptions: () => Promise<Record<string, unknown>>,
  session?: unknown,
): Promise<FTP> {
  const mode = tlsModeOf(target, settings);
  const options: FTPOptions = {
    passive: !settings.active,
    debugLevel: settings.debug ? 1 : 0,
    debugOutput: settings.log,
    modeZ: settings.modeZ,
  };
  if (settings.timeout !== undefined) options.timeout = settings.timeout;
  if (settings.rateLimit !== undefined) options.rateLimit = settings.rateLimit;
  let ftp: FTP;
  if (mode === "none") {
    ftp = new FTP(options);
  } else {
    const tls = { ...(await tlsOptions()) };
    if (session !== undefined) tls.session = session;
    ftp = new FTP_TLS({ ...options, tls, implicit: mode === "implicit" });
  }
  await (mode === "none" ? connectPlain(ftp, target) : ftp.connect(target.host, target.port));
  try {
    // AUTH before the login (which would send it too), so that a server refusing TLS is told apart from a refused login.
    if (ftp instanceof FTP_TLS && mode === "explicit") {
      await ftp.auth().catch((error: unknown) => {
        throw refusal(error, "the server refused TLS (AUTH TLS)", ExitCode.TLS);
      });
    }
    await ftp.login(credentials.user, credentials.password, credentials.account).catch((error: unknown) => {
      throw refusal(error, `login refused for ${credentials.user}`, ExitCode.LOGIN);
    });
    if (ftp instanceof FTP_TLS && !ftp.dataProtected) await ftp.protP();
  } catch (error) {
    ftp.close();
    throw error;
  }
  return ftp;
}

/** How long a plain connection waits for the greeting before it checks whether the server speaks TLS. */
export const GREETING_PROBE_MS = 1500;

/**
 * Connects in the clear. A server of implicit TLS (ftps://) says nothing until the client's TLS
 * handshake, so the greeting would never come: when it has not come in a moment, a second
 * connection tries a TLS handshake, and if the server answers it the run stops at once with a
 * hint instead of waiting out the timeout. A plain server that is merely slow to greet (a reverse
 * DNS lookup, say) answers that handshake in clear text, and the wait goes on.
 */
async function connectPlain(ftp: FTP, target: FtpTarget): Promise<void> {
  const connected = ftp.connect(target.host, target.port);
  let timer: NodeJS.Timeout | undefined;
  let probe: TlsProbe | undefined;
  const probed = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => {
      probe = probeTls(target.host, target.port);
      void probe.answer.then(resolve);
    }, GREETING_PROBE_MS);
  });
  try {
    const first = await Promise.race([connected.then(() => "greeted" as const), probed]);
    if (first === true) {
      ftp.close();
      connected.catch(() => undefined);
      throw new CliError(
        `no greeting from ${target.host}:${target.port}, and it answers a TLS handshake: the server speaks implicit TLS; use ftps://`,
        ExitCode.CONNECTION,
      );
    }
    await connected;
  } finally {
    clearTimeout(timer);
    probe?.cancel();
  }
}

interface TlsProbe {
  /** True when the server completed a TLS handshake. */
  answer: Promise<boolean>;
  cancel(): void;
}

/**
 * Asks host:port for a TLS handshake, its certificate not checked: only whether it speaks TLS.
 * No answer within a moment is no.
 */
function probeTls(host: string, port: number): TlsProbe {
  const socket = tlsConnect({ host, port, rejectUnauthorized: false, ...(isIP(host) ? {} : { servername: host }) });
  const answer = new Promise<boolean>((resolve) => {
    const done = (yes: boolean) => {
      socket.destroy();
      resolve(yes);
    };
    socket.setTimeout(GREETING_PROBE_MS * 2, () => done(false));
    socket.once("secureConnect", () => done(true));
    socket.once("error", () => done(false));
    socket.once("close", () => done(false));
  });
  return { answer, cancel: () => socket.destroy() };
}
