export interface EmbeddedServer {
  readonly name: "ftp-srv";
  readonly host: string;
  readonly port: number;
  readonly root: string;
  readonly user: string;
  readonly password: string;
  close(): Promise<void>;
}

export interface EmbeddedServerOptions {
  /** Serve this directory instead of a fresh temporary one (kept on close). */
  root?: string;
  /** Serve TLS (explicit, AUTH TLS) with this key and certificate. */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** With `tls`: implicit FTPS (TLS from the first byte) instead of AUTH TLS. */
  implicit?: boolean;
  /** Accounts, user name to password, instead of the one of `user` and `password` (anonymous always works). */
  users?: Readonly<Record<string, string>>;
}

export declare function freePort(host: string): Promise<number>;
export declare function startEmbeddedServer(host?: string, options?: EmbeddedServerOptions): Promise<EmbeddedServer>;

export interface RealEndpoint {
  host: string;
  port: number;
  family: 4 | 6;
  tls: "none" | "explicit" | "implicit";
}

export interface RealServer {
  name: string;
  version?: string;
  user: string;
  password: string;
  root: string;
  ca?: string;
  endpoints: RealEndpoint[];
  notes?: string;
  /** "core": every real-server suite uses it; "interop": only the interop matrix does. */
  scope?: "core" | "interop";
}

/**
 * The servers started by servers/servers.sh, or [] when none were started: the core ones by
 * default, every one with `{ all: true }`.
 */
export declare function realServers(options?: { all?: boolean }): RealServer[];

/** The test certificates: `ca` signs `cert`/`key` (localhost, 127.0.0.1, ::1); `untrusted` is self-signed. */
export declare const testTls: {
  ca: string;
  cert: string;
  key: string;
  untrusted: { cert: string; key: string };
  dnsOnly: { cert: string; key: string };
};

export interface DedicatedVsftpd {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /** The data root, seen locally (the server shows it as "/"). */
  readonly root: string;
  /** The CA that signed the server's certificate (PEM). */
  readonly ca: string;
  readonly pid: number;
  /** How many processes the server has forked that are still running (its sessions). */
  processes(): number;
  /** Stops the server and every session process it forked. */
  close(): Promise<void>;
}

/**
 * A vsftpd of one's own (servers.sh's binary, PAM service and certificate; its own config, port and
 * data root under `scratch`), for runs that need more sessions than the shared servers allow.
 * Rejects with the reason when it cannot start here (not root, servers.sh never installed).
 */
export declare function startDedicatedVsftpd(options: {
  scratch: string;
  passive: readonly [min: number, max: number];
  maxClients?: number;
}): Promise<DedicatedVsftpd>;
