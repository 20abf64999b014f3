/**
 * The error classes of every ftplib package. They live here, in the pure codec, so that a parser,
 * a custom transport and the client all raise the same classes.
 *
 * Each class carries a brand that survives duplicated copies of the package (two versions in one
 * `node_modules`, or a bundle beside an installed copy). `instanceof` checks the brand through the
 * classes' static `Symbol.hasInstance`, so `error instanceof ErrorPerm` holds for an `ErrorPerm` of
 * any copy; the static `isInstance` is the same check under the older name.
 */
import { type Reply, leadingCode } from "./reply.js";

const KINDS = Symbol.for("@ftplib/error-kinds");

interface Kinded {
  readonly kind: string;
}

/** Root of the brand mechanism; not exported, so it never stands for a category of errors. */
abstract class BrandedError extends Error {
  /** A stable, machine-readable identifier of what went wrong, such as `ERR_FTP_PERM`. */
  readonly code: string;

  constructor(message: string, code: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.code = code;
    const kinds: string[] = [];
    for (let c: unknown = new.target; typeof c === "function"; c = Object.getPrototypeOf(c)) {
      if (Object.prototype.hasOwnProperty.call(c, "kind")) kinds.push((c as unknown as Kinded).kind);
    }
    Object.defineProperty(this, KINDS, { value: kinds });
    // Set by hand: class names do not survive minification.
    this.name = kinds[0] ?? "Error";
  }

  /**
   * What `value instanceof` this class answers: true for an instance of this class from any copy of
   * the package, by brand, or from this copy, by prototype. A subclass that declares no `kind` of its
   * own (a user's `class MyError extends FtpError`) has no brand, so only the prototype counts.
   */
  static override [Symbol.hasInstance]<T>(this: abstract new (...args: never[]) => T, value: unknown): value is T {
    if (Object.prototype.hasOwnProperty.call(this, "kind")) {
      const kinds = typeof value === "object" && value !== null ? (value as { [KINDS]?: unknown })[KINDS] : undefined;
      if (Array.isArray(kinds) && kinds.includes((this as unknown as Kinded).kind)) return true;
    }
    return Function.prototype[Symbol.hasInstance].call(this, value);
  }

  /** The same check as `value instanceof` this class, as a method: `allErrors.some((c) => c.isInstance(e))`. */
  static isInstance<T>(this: abstract new (...args: never[]) => T, value: unknown): value is T {
    return value instanceof this;
  }
}

/**
 * Every error that the connection, rather than a programming mistake, can raise.
 *
 * @group Errors
 */
export class FtpError extends BrandedError {
  static readonly kind: string = "FtpError";
}

/**
 * Options of the error constructors.
 *
 * @group Errors
 */
export interface FtpErrorOptions {
  /** Overrides the class's default `code`. */
  code?: string;
  cause?: unknown;
}

interface DefaultCode {
  readonly defaultCode: string;
}

/** What the four ftplib errors share: the reply that caused them, where there is one. */
abstract class ReplyError extends FtpError {
  static readonly defaultCode: string = "ERR_FTP_REPLY";
  /** The reply, when the error comes from a well-formed one. */
  readonly reply: Reply | undefined;
  /** The three-digit reply code, or `undefined` when there was no valid reply. */
  readonly replyCode: number | undefined;
  /** The reply text as ftplib reports it (lines joined by `\n`), or a description. */
  readonly text: string;

  constructor(reply: Reply | string, options: FtpErrorOptions = {}) {
    const text = typeof reply === "string" ? reply : reply.text;
    super(text, options.code ?? (new.target as unknown as DefaultCode).defaultCode, options.cause);
    this.reply = typeof reply === "string" ? undefined : reply;
    this.text = text;
    this.replyCode = typeof reply === "string" ? codeOf(text) : reply.code;
  }
}

function codeOf(text: string): number | undefined {
  const code = leadingCode(text);
  return code < 0 ? undefined : code;
}

/**
 * An unexpected 1xx, 2xx or 3xx reply (ftplib's `error_reply`).
 *
 * @group Errors
 */
export class ErrorReply extends ReplyError {
  static override readonly kind: string = "ErrorReply";
}

/**
 * A 4xx reply: transient, the same command may succeed later (ftplib's `error_temp`).
 *
 * @group Errors
 */
export class ErrorTemp extends ReplyError {
  static override readonly kind: string = "ErrorTemp";
  static override readonly defaultCode: string = "ERR_FTP_TEMP";
}

/**
 * A 5xx reply: permanent (ftplib's `error_perm`).
 *
 * @group Errors
 */
export class ErrorPerm extends ReplyError {
  static override readonly kind: string = "ErrorPerm";
  static override readonly defaultCode: string = "ERR_FTP_PERM";
}

/**
 * A reply that breaks the protocol: no valid code, a bad PASV address, and so on (ftplib's `error_proto`).
 *
 * @group Errors
 */
export class ErrorProto extends ReplyError {
  static override readonly kind: string = "ErrorProto";
  static override readonly defaultCode: string = "ERR_FTP_PROTO";
}

/**
 * Malformed input from the server, found by the codec: a line over the limit, a reply without a
 * valid code, the connection closed inside a reply. An {@link ErrorProto}, as ftplib would raise.
 *
 * @group Errors
 */
export class RemoteProtocolError extends ErrorProto {
  static override readonly kind: string = "RemoteProtocolError";
  constructor(message: string, code: string) {
    super(message, { code });
  }
}

/**
 * Misuse by the caller: a command with CR, LF or NUL in it, text the encoding cannot represent, a
 * command sent in a state that allows none. A programming mistake, so not an {@link FtpError}.
 *
 * @group Errors
 */
export class LocalProtocolError extends BrandedError {
  static readonly kind: string = "LocalProtocolError";
}

/**
 * The connection failed: refused, reset, closed by the peer at the wrong moment.
 *
 * @group Errors
 */
export class FtpConnectionError extends FtpError {
  static override readonly kind: string = "FtpConnectionError";
  static readonly defaultCode: string = "ERR_FTP_CONNECTION";
  constructor(message: string, options: FtpErrorOptions = {}) {
    super(message, options.code ?? (new.target as unknown as DefaultCode).defaultCode, options.cause);
  }
}

/**
 * A connect, reply or data transfer took longer than the timeout.
 *
 * @group Errors
 */
export class FtpTimeoutError extends FtpConnectionError {
  static override readonly kind: string = "FtpTimeoutError";
  static override readonly defaultCode: string = "ERR_FTP_TIMEOUT";
}

/**
 * A TLS handshake failed or the peer's certificate was not trusted.
 *
 * @group Errors
 */
export class FtpTlsError extends FtpConnectionError {
  static override readonly kind: string = "FtpTlsError";
  static override readonly defaultCode: string = "ERR_FTP_TLS";
}
