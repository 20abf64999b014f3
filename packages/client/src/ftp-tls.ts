/**
 * FTP_TLS: FTP over TLS (RFC 4217), as ftplib defines it, and where ftplib fails: data connections
 * resume the control connection's TLS session (vsftpd and proftpd require it), over TLS 1.2 and
 * 1.3, and implicit FTPS is there too.
 */
import { FtpTlsError, LocalProtocolError, replyIs } from "@ftplib/protocol";
import type { NodeTlsOptions } from "@ftplib/transport";
import { booleanOption, invalidOption } from "./options.js";
import { FTP } from "./ftp.js";
import type { FTPOptions, OpenOptions } from "./ftp-options.js";
import type { Session } from "./session.js";

/**
 * The port of implicit FTPS.
 *
 * @group Connecting
 */
export const FTPS_IMPLICIT_PORT = 990;

/**
 * What `new FTP_TLS(options)` takes: `FTPOptions` with `tls` and `implicit`.
 *
 * @group Connecting
 */
export interface FTP_TLSOptions extends FTPOptions {
  /**
   * Options for Node's TLS (`ca`, `cert`, `key`, `rejectUnauthorized`, `servername`,
   * `minVersion`, `maxVersion`, `secureContext`, ...). Certificates are verified by default,
   * against the host name connected to, on the data connections too.
   */
  tls?: NodeTlsOptions;
  /**
   * Implicit FTPS: TLS from the first byte (port 990 by default), no AUTH TLS, and data
   * connections protected from the login on (`login()` sends PBSZ 0 and PROT P, as basic-ftp and
   * curl do for implicit FTPS). Explicit FTPS keeps ftplib's rule: data is protected after `protP()`.
   */
  implicit?: boolean;
}

/**
 * What `FTP_TLS.open(options)` takes.
 *
 * @group Connecting
 */
export interface FTP_TLSOpenOptions extends OpenOptions, FTP_TLSOptions {}

/**
 * Python's `ftplib.FTP_TLS`: FTP over TLS (RFC 4217), explicit (AUTH TLS) or implicit.
 *
 * @group Connecting
 */
export class FTP_TLS extends FTP {
  /** True for implicit FTPS. */
  readonly implicit: boolean;

  /**
   * Connects, secures the control connection (unless implicit: secure already) and logs in; in
   * implicit mode, data connections are protected too (PBSZ 0, PROT P).
   *
   * @example
   * ```ts
   * import { FTP_TLS } from "@ftplib/client";
   *
   * const ftps = await FTP_TLS.open({ host: "ftp.example.com", user: "me", password: "secret" }); // AUTH TLS, then login
   * await ftps.protP(); // explicit FTPS: protect data connections too
   * console.log(await ftps.nlst());
   * await ftps.quit();
   * ```
   * @returns the connected, logged-in client.
   * @group Connecting
   */
  static override async open(options: FTP_TLSOpenOptions): Promise<FTP_TLS> {
    return (await super.open(options)) as FTP_TLS;
  }

  /**
   * An FTPS client, not yet connected; `tls` holds Node's TLS options.
   *
   * @example
   * ```ts
   * import { readFileSync } from "node:fs";
   * import { FTP_TLS } from "@ftplib/client";
   *
   * const ftps = new FTP_TLS({ tls: { ca: readFileSync("ca.pem") } }); // certificates are verified by default
   * await ftps.connect("ftp.example.com");
   * await ftps.login("me", "secret"); // AUTH TLS first: the password never goes in the clear
   * await ftps.protP(); // data connections protected too
   * await ftps.quit();
   * ```
   * @group Connecting
   */
  constructor(options: FTP_TLSOptions = {}) {
    super(options);
    this.implicit = booleanOption("implicit", options.implicit, false);
    if (options.tls !== undefined && (typeof options.tls !== "object" || options.tls === null)) {
      throw invalidOption(TypeError, "tls", "an object of Node TLS options", options.tls);
    }
    // Node ignores these beside a secureContext: refused, as ftplib refuses keyfile and certfile
    // beside a context, rather than a client certificate silently left out.
    const beside = (["key", "cert", "pfx"] as const).find((name) => options.tls?.[name] !== undefined);
    if (options.tls?.secureContext !== undefined && beside !== undefined) {
      throw invalidOption(
        TypeError,
        `tls.${beside}`,
        "left out when tls.secureContext is given (put it in the context)",
        "set",
      );
    }
    this.implicitTls = this.implicit;
    this.tlsOptions = { ...options.tls };
    if (this.implicit) this.port = FTPS_IMPLICIT_PORT;
  }

  /** True while the control connection is protected by TLS. */
  get secure(): boolean {
    return this.session?.channel.secure ?? false;
  }

  /**
   * The latest TLS session of the control connection: give it as `tls.session` to another
   * FTP_TLS (a pool's connections, say) to resume it instead of a full handshake.
   */
  get tlsSession(): unknown {
    return this.session?.channel.tlsSession;
  }

  /** True when the control connection resumed an earlier TLS session. */
  get tlsResumed(): boolean {
    return this.session?.channel.tlsResumed ?? false;
  }

  /** True when data connections are protected (after `protP()`, or the login in implicit mode). */
  get dataProtected(): boolean {
    return this.session?.dataProtected ?? false;
  }

  /**
   * Logs in, securing the control connection first (AUTH TLS) unless `secure` is false, as ftplib
   * does: the password never travels in the clear. In implicit mode it then protects data
   * connections (PBSZ 0, PROT P); a refusal of either rejects the login with that reply's error.
   *
   * @returns the server's reply to the login (usually `230 ...`).
   *
   * @group Connecting
   */
  override login(user = "", passwd = "", acct = "", secure = true): Promise<string> {
    // Checked before AUTH TLS, so that credentials that cannot be sent send nothing at all.
    return this.checked([], [user, passwd, acct], () =>
      this.run(async (session) => {
        if (secure && !this.secure) await this.authOn(session);
        const resp = await session.login(user, passwd, acct);
        if (this.implicit && !session.dataProtected) await this.protectOn(session);
        return resp;
      }),
    );
  }

  /**
   * Secures the control connection: AUTH TLS, then the TLS handshake. Refused (LocalProtocolError)
   * if it is secure already. If the server refuses AUTH or the handshake fails, nothing more is
   * sent: a failed handshake closes the connection.
   *
   * @returns the server's reply to AUTH TLS (234).
   * @group Connecting
   */
  auth(): Promise<string> {
    return this.run((session) => this.authOn(session));
  }

  private async authOn(session: Session): Promise<string> {
    if (this.secure) throw new LocalProtocolError("already using TLS", "ERR_FTP_TLS_ACTIVE");
    const reply = await session.voidCommand("AUTH TLS");
    if (!replyIs(reply, 234)) {
      // Another 2xx: the server may or may not expect a handshake now. Nothing more is sent.
      const error = new FtpTlsError(`AUTH TLS was answered without 234: ${reply.text}`, {
        code: "ERR_FTP_TLS_REFUSED",
      });
      this.close();
      throw error;
    }
    await session.channel.switchTls({ tls: this.tlsOptions });
    return reply.text;
  }

  /**
   * Clears TLS from the control connection (CCC, RFC 4217 12.3); data protection stays as it is.
   *
   * @returns the server's reply to CCC.
   * @group Connecting
   */
  ccc(): Promise<string> {
    return this.run(async (session) => {
      if (!this.secure) throw new LocalProtocolError("not using TLS", "ERR_FTP_TLS_INACTIVE");
      const resp = await session.voidCmd("CCC");
      await session.channel.switchTls(false);
      return resp;
    });
  }

  /**
   * Protects data connections: PBSZ 0, then PROT P. Needed after an explicit (AUTH TLS) login, as
   * in ftplib; an implicit login has sent them already.
   *
   * @returns the server's reply to PROT P.
   *
   * @group Connecting
   */
  protP(): Promise<string> {
    return this.run((session) => this.protectOn(session));
  }

  private async protectOn(session: Session): Promise<string> {
    await session.voidCmd("PBSZ 0");
    const resp = await session.voidCmd("PROT P");
    session.dataProtected = true;
    return resp;
  }

  /**
   * Data connections in the clear: PROT C.
   *
   * @returns the server's reply to PROT C.
   * @group Connecting
   */
  protC(): Promise<string> {
    return this.run(async (session) => {
      const resp = await session.voidCmd("PROT C");
      session.dataProtected = false;
      return resp;
    });
  }
}
