/**
 * Checks of what the caller passes in: options at construction, and names and commands before a
 * byte of them is sent. An absurd option is a programming mistake, found at once with an error
 * that names it, rather than a hang or a failure much later.
 */
import { type TextEncoding, encodeCommand } from "@ftplib/protocol";

/**
 * A RangeError or TypeError with `code` `ERR_FTP_INVALID_OPTION` and the option's name in
 * `option`, as Node tags its own argument errors.
 */
export type InvalidOptionError = (RangeError | TypeError) & {
  readonly code: "ERR_FTP_INVALID_OPTION";
  readonly option: string;
};

export function invalidOption(
  kind: typeof RangeError | typeof TypeError,
  option: string,
  expected: string,
  value: unknown,
): InvalidOptionError {
  const shown =
    typeof value === "string"
      ? JSON.stringify(value.slice(0, 40))
      : typeof value === "function"
        ? "a function"
        : String(value);
  const error = new kind(`${option} must be ${expected}, not ${shown}`);
  return Object.assign(error, { code: "ERR_FTP_INVALID_OPTION" as const, option });
}

/** The longest timeout Node's timers take (about 24.8 days); longer ones fire at once. */
export const MAX_TIMEOUT = 2 ** 31 - 1;

/** An integer option from `min` to `max`; `undefined` gives `fallback`. */
export function integerOption(option: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number") throw invalidOption(TypeError, option, `an integer from ${min} to ${max}`, value);
  if (!Number.isInteger(value) || value < min || value > max)
    throw invalidOption(RangeError, option, `an integer from ${min} to ${max}`, value);
  return value;
}

/** Milliseconds from 0 (none) to the longest a timer takes. */
export function millisecondsOption(option: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || value > MAX_TIMEOUT) {
    throw invalidOption(
      typeof value === "number" ? RangeError : TypeError,
      option,
      `a number of milliseconds from 0 to ${MAX_TIMEOUT}`,
      value,
    );
  }
  return value;
}

export function booleanOption(option: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") throw invalidOption(TypeError, option, "a boolean", value);
  return value;
}

export function functionOption<F>(option: string, value: F | undefined): F | undefined {
  if (value !== undefined && typeof value !== "function") throw invalidOption(TypeError, option, "a function", value);
  return value;
}

/** A TCP port: 1 to 65535, or 0 where "any" or "the default" is meant and `allowZero` says so. */
export function portOption(option: string, value: unknown, allowZero: boolean): number | undefined {
  if (value === undefined) return undefined;
  return integerOption(option, value, 0, allowZero ? 0 : 1, 65535);
}

/** A host name or address: a non-empty string with no control characters or spaces. */
export function hostOption(option: string, value: unknown): string {
  // eslint-disable-next-line no-control-regex -- control characters are what is refused
  if (typeof value !== "string" || value === "" || value.length > 255 || /[\s\0-\x1f\x7f]/.test(value)) {
    throw invalidOption(typeof value === "string" ? RangeError : TypeError, option, "a host name or address", value);
  }
  return value;
}

/** A restart offset: a non-negative safe integer, or such an integer as decimal digits. */
export function restOption(value: unknown): number | string | undefined {
  if (value === undefined) return undefined;
  const ok =
    (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) ||
    (typeof value === "string" && /^\d{1,20}$/.test(value));
  if (!ok)
    throw invalidOption(
      typeof value === "number" || typeof value === "string" ? RangeError : TypeError,
      "rest",
      "a byte offset (an integer >= 0)",
      value,
    );
  return value as number | string;
}

/**
 * Throws {@link LocalProtocolError} (`ERR_FTP_INVALID_COMMAND`) unless every line can be sent as
 * it is: a command line, or a name used as an argument. Called before the first command of a
 * call, so a name with CR, LF or NUL (or text the encoding cannot hold) never half-runs a call.
 */
export function checkSendable(
  encoding: TextEncoding,
  commands: readonly string[],
  names: readonly string[] = [],
): void {
  for (const command of commands) encodeCommand(command, encoding);
  for (const name of names) {
    if (typeof name !== "string") throw invalidOption(TypeError, "path", "a string", name);
    encodeCommand(`NOOP ${name}`, encoding);
  }
}
