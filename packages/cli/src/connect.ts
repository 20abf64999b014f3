/**
 * From a URL and the command line's options to a logged-in client: credentials from the URL, the
 * options, the environment or .netrc; plain FTP, explicit or implicit TLS; passive or active.
 */
import { readFile } from "node:fs/promises";
import { ErrorPerm, ErrorReply, ErrorTemp, FTP, FTP_TLS, type FTPOptions } from "@ftplib/client";
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
    const entry = await readNetrc(target.host, user, settings.netrc).catch((error: unknown) => {
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
  let ftp: FTP;
  if (mode === "none") {
    ftp = new FTP(options);
  } else {
    const tls = { ...(await tlsOptions()) };
    if (session !== undefined) tls.session = session;
    ftp = new FTP_TLS({ ...options, tls, implicit: mode === "implicit" });
  }
  await ftp.connect(target.host, target.port);
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
