/**
 * Which replies can answer which command: the rules the codec matches replies by, as data.
 *
 * RFC 959 (5.4) lists the replies each command may get. Most codes are shared (200, 250, every
 * 4xx and 5xx), but 225 and 226 close a data transfer or answer ABOR and nothing else. One that
 * arrives for another command cannot be that command's answer: it is a surplus or late reply of
 * an earlier one (a second 226 after a transfer, the 226 that a server without ABOR sends last),
 * and the codec says so instead of handing it to the wrong command. So does a success reply that
 * a command with one kind of success cannot get (`250` for PWD, whose answer is `257`). A started
 * transfer is closed by a 2xx or an error, but while a NOOP marker follows an ABOR, a 200 is the
 * marker's. Verbs the rules do not know (SITE subcommands, vendor commands) accept any reply.
 */

/** Commands that open a data transfer: a 1xx reply is preliminary, and a final one follows. */
export const TRANSFER_VERBS: ReadonlySet<string> = new Set(["RETR", "STOR", "STOU", "APPE", "LIST", "NLST", "MLSD"]);

/**
 * Codes that answer only the commands listed (and unknown verbs): the ones a late or surplus
 * reply has. Other codes are not checked: a server that answers RETR with 350 gets an
 * ErrorReply for it, as in ftplib, rather than a wait for a reply that will not come.
 */
const DISTINCTIVE: ReadonlyMap<number, readonly string[]> = new Map<number, readonly string[]>([
  [225, ["ABOR"]],
  [226, [...TRANSFER_VERBS, "ABOR"]],
]);

/**
 * The 2xx and 3xx replies of commands whose answer is a value only that reply carries (a
 * directory, a passive address: RFC 959 5.4, RFC 2428): another 2xx or 3xx is a surplus reply of
 * an earlier command, and taking it would return a wrong result (`pwd()` parsing a `250`).
 * Others keep ftplib's rule, where an unexpected reply raises ErrorReply (RNFR answered 200) or
 * gives no value (SIZE answered 250). Errors (4xx, 5xx) answer any command.
 */
const SUCCESS: ReadonlyMap<string, readonly number[]> = new Map<string, readonly number[]>([
  ["PWD", [257]],
  ["XPWD", [257]],
  ["MKD", [257]],
  ["XMKD", [257]],
  ["PASV", [227]],
  ["EPSV", [229]],
]);

/** Every verb the rules know: for these, a distinctive code of other commands is refused. */
const KNOWN_VERBS: ReadonlySet<string> = new Set([
  ...TRANSFER_VERBS,
  ...["USER", "PASS", "ACCT", "CWD", "XCWD", "CDUP", "XCUP", "SMNT", "REIN", "QUIT", "PORT", "PASV", "EPRT", "EPSV"],
  ...["TYPE", "STRU", "MODE", "ALLO", "REST", "RNFR", "RNTO", "ABOR", "DELE", "RMD", "XRMD", "MKD", "XMKD", "PWD"],
  ...["XPWD", "SYST", "STAT", "HELP", "NOOP", "FEAT", "OPTS", "SIZE", "MDTM", "MFMT", "MLST", "AUTH", "PBSZ", "PROT"],
  ...["CCC", "ADAT", "HOST", "LANG", "CLNT", "HASH", "XCRC", "XMD5", "XSHA1", "XSHA256"],
]);

/** What the codec knows of a command still owed a reply. */
export interface PendingCommand {
  /** The verb, upper-cased. */
  readonly verb: string;
  /** A transfer command: 1xx replies are preliminary. */
  readonly transfer: boolean;
  /** A 1xx reply came: the data connection is in use, and the final reply closes it. */
  started: boolean;
}

/**
 * True when `code` can answer `command`. A transfer that has started is past parsing: it is closed
 * by a 2xx (226 mostly; aioftp ends MLSD with 200), or by an error other than 500 to 504 (those
 * answer a command just read, such as an ABOR the server does not know). While a NOOP marker is
 * outstanding after it (`markerPending`), a 200 is the marker's. ABOR gets 225, 226 or an error,
 * never a 200 (a NOOP's).
 */
export function canAnswer(command: PendingCommand, code: number, markerPending = false): boolean {
  const { verb } = command;
  // A 1xx to a command that is no transfer is its answer (ftplib returns it, voidcmd raises).
  if (code < 200) return true;
  if (command.started) {
    // 225 says no transfer is in progress: ABOR's.
    if (code < 300) return code !== 225 && !(markerPending && code === 200);
    return code >= 400 && !(code >= 500 && code <= 504);
  }
  // NOOP's 200 (the marker's) must never be taken for ABOR's reply.
  if (verb === "ABOR") return code === 225 || code === 226 || code >= 400;
  if (code >= 400 || !KNOWN_VERBS.has(verb)) return true;
  const success = SUCCESS.get(verb);
  if (success !== undefined) return success.includes(code);
  const owners = DISTINCTIVE.get(code);
  return owners === undefined || owners.includes(verb);
}
