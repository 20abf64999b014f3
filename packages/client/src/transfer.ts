/**
 * The transfer engine: a transfer's data connection and its final reply, run together, and
 * stopped together (ABOR) when either side fails or the caller aborts.
 *
 * One transfer at a time per session (`session.transfer`). Its replies are read by command id
 * (control-channel.ts), so the transfer's final reply and ABOR's never take each other's.
 */
import {
  type ByteStream,
  ErrorProto,
  FtpError,
  FtpTimeoutError,
  FtpTlsError,
  type Reply,
  completionError,
  replyError,
  replyIs,
} from "@ftplib/protocol";
import { MAX_BLOCKSIZE, DEFAULT_BLOCKSIZE, type RetrBinaryOptions, type StorBinaryOptions } from "./ftp-options.js";
import { GuardedStream } from "./guarded-stream.js";
import { withModeZ } from "./mode-z.js";
import { booleanOption, functionOption, integerOption, restOption } from "./options.js";
import {
  type AbortReplies,
  type CallerTransfer,
  type RunningTransfer,
  type Session,
  type Transfer,
} from "./session.js";
import { type UploadSource, chunksOf, slices } from "./sources.js";

/** The replies of a server that does not know ABOR (or cannot parse it). */
const ABOR_UNKNOWN = [500, 501, 502, 503, 504] as const;
/** Milliseconds a stopped transfer's data connection gets to close by itself. */
const DATA_CLOSE_PATIENCE = 2000;
/** Milliseconds after one reply to an abort for the other, before a NOOP marker is sent. */
const MARKER_DELAY = 250;
/** Milliseconds a download that failed on this side gets to end by itself before ABOR. */
const DRAIN_MOMENT = 100;

/** True if `work` settles (either way) within `ms`; the work goes on either way. */
async function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const settled = work.then(
    () => true,
    () => true,
  );
  const result = await Promise.race([settled, late]);
  clearTimeout(timer);
  return result;
}

function noFinalReply(): never {
  throw new ErrorProto("no final reply to the transfer", { code: "ERR_FTP_NO_REPLY" });
}

// --- Transfers the caller drives (ftplib's ntransfercmd) -------------------------------------

/** Opens a transfer for the caller, who holds the turn until `endTransfer` (`release`). */
export async function openCallerTransfer(
  session: Session,
  cmd: string,
  rest: number | string | undefined,
  release: () => void,
): Promise<[ByteStream, number | null]> {
  // The caller reads the raw connection: stream mode, unless the caller sent a MODE itself.
  if (session.mode === "Z") await session.setMode("S");
  const [conn, size, id] = await session.openTransfer(cmd, rest);
  session.transfer = { kind: "caller", id, conn, aborted: false, release };
  return [conn, size];
}

/**
 * Reads the final reply of a transfer opened by `ntransferCmd` (after `abort()`, the one kept
 * then), then ends the caller's turn.
 */
export async function endTransfer(session: Session, transfer: CallerTransfer, expectSuccess: boolean): Promise<string> {
  try {
    let reply: Reply;
    if (transfer.afterAbort !== undefined) {
      const { transfer: final, abort } = await transfer.afterAbort;
      reply = (final ?? abort)!;
    } else {
      reply = await session.reply(transfer.id);
    }
    // ftplib's getresp raises for 4xx and 5xx; its voidresp for anything but 2xx.
    const error = expectSuccess ? completionError(reply) : replyError(reply);
    if (error !== undefined) throw error;
    return reply.text;
  } finally {
    session.transfer = undefined;
    transfer.release();
  }
}

// --- ABOR ------------------------------------------------------------------------------------

/**
 * ftplib's abort: ABOR, then its reply, which must be 426, 225 or 226 (ErrorProto otherwise).
 * A transfer the client runs is stopped on both sides; one opened by `ntransferCmd` has its data
 * connection closed and its final reply kept for `voidResp()`. TLS or not, no out-of-band byte is
 * sent: servers that do not read the control connection during a transfer see the data
 * connection close.
 */
export async function abort(session: Session): Promise<string> {
  const transfer = session.transfer;
  if (transfer?.kind === "running") {
    transfer.aborted = true;
    await stopTransfer(session, transfer);
    const final = await transfer.final;
    return checkAbortReply({ transfer: final, ...(await transfer.afterAbort) });
  }
  const abortId = await session.send("ABOR");
  session.channel.setTimeout(session.settings.timeout);
  if (transfer !== undefined) {
    transfer.aborted = true;
    transfer.conn.destroy();
  }
  const replies = abortReplies(session, transfer, abortId);
  if (transfer !== undefined) transfer.afterAbort = replies;
  return checkAbortReply(await replies);
}

/**
 * The reply abort() returns: ABOR's, which must be 426, 225 or 226 (ErrorProto otherwise), as
 * ftplib checks it. A server that answered the transfer and ABOR with one reply gave the
 * transfer's; so does a server that does not know ABOR (500 to 504), where closing the data
 * connection stopped the transfer.
 */
function checkAbortReply({ transfer, abort }: AbortReplies): string {
  const unknown = abort !== undefined && replyIs(abort, ...ABOR_UNKNOWN) && transfer !== undefined;
  const reply = unknown ? transfer : (abort ?? transfer);
  if (reply === undefined || ![426, 225, 226].includes(reply.code)) {
    throw new ErrorProto(reply ?? "no reply to ABOR", { code: "ERR_FTP_ABORT" });
  }
  return reply.text;
}

/**
 * The replies after ABOR, to the transfer (when one is open) and to ABOR itself. The channel
 * matches each reply to its command, so their order does not matter (nodeftpd answers ABOR
 * with 502 and sends the transfer's 226 after it). When one of the two is answered and the
 * other does not follow within MARKER_DELAY, a NOOP goes out as a marker: a server may answer
 * both with one reply (proftpd, for STOR), and the marker's reply, whatever its code (aioftp
 * answers NOOP with 502), says the server has answered all before it. A server that does not
 * know ABOR (500 to 504) still ends the transfer, whose data connection is closed: no marker.
 */
async function abortReplies(session: Session, open: Transfer | undefined, abortId: number): Promise<AbortReplies> {
  const channel = session.channel;
  if (open === undefined) return { abort: await channel.finalReply(abortId) };
  let abortReply: Reply | undefined;
  // A transfer the client runs is read already: one reader per command.
  const transfer = open.kind === "running" ? open.finalReply : channel.finalReply(open.id);
  const abort = channel.finalReply(abortId).then((reply) => (abortReply = reply));
  transfer.catch(() => undefined);
  abort.catch(() => undefined);
  await Promise.race([transfer, abort]);
  // The other reply mostly follows at once (aioftp sends 426 and 226 one after the other).
  await settlesWithin(Promise.all([transfer, abort]), MARKER_DELAY);
  const abortUnknown = abortReply !== undefined && replyIs(abortReply, ...ABOR_UNKNOWN);
  const waiting = channel.isOutstanding(open.id) || channel.isOutstanding(abortId);
  if (waiting && !abortUnknown) await channel.finalReply(await session.send("NOOP"));
  return { transfer: await transfer, abort: await abort };
}

/**
 * Stops a running transfer on both sides. A download gets ABOR first, so that the server stops
 * sending, then its data is drained; an upload is ended cleanly first (over TLS a dropped data
 * connection makes proftpd end the session), then ABOR.
 */
async function stopTransfer(session: Session, transfer: RunningTransfer): Promise<void> {
  if (transfer.stopped) return;
  transfer.stopped = true;
  const direction = transfer.direction;
  if (direction === "upload") await closeData(session, transfer.conn, direction);
  const abortId = await session.send("ABOR");
  // Replies are due now, within the usual timeout.
  session.channel.setTimeout(session.settings.timeout);
  transfer.afterAbort = abortReplies(session, transfer, abortId);
  transfer.afterAbort.catch(() => undefined);
  if (direction === "download") await closeData(session, transfer.conn, direction);
}

// --- Transfers the client runs ---------------------------------------------------------------

/**
 * Runs a transfer: opens it, runs `body` on the data connection while watching the control
 * connection for the final reply, and resolves only when both are done. A final 4xx or 5xx
 * reply ends the data connection and rejects; so does a body that fails, after stopping the
 * server's side with ABOR. After `abort()` the final reply is returned whatever it is, as ftplib
 * does. The order of errors: a refused data certificate, then the control connection's failure,
 * then the caller's own (a callback or source that threw), then the server's reply, then the
 * data connection's. With `modeZ` (a download's default: the client's), the body reads and
 * writes uncompressed bytes, deflated on the connection where the server offers MODE Z.
 */
export async function runTransfer(
  session: Session,
  cmd: string,
  rest: number | string | undefined,
  direction: "download" | "upload",
  data: { ownChunks?: boolean; modeZ?: boolean | undefined },
  body: (conn: ByteStream, announced: number | null) => Promise<void>,
): Promise<string> {
  // The client's default covers downloads only: uploads deflate when the call asks (see FTPOptions.modeZ).
  const modeZ = data.modeZ ?? (direction === "download" && session.settings.modeZ);
  // Stream mode, and the server in it: nothing to send, nothing to wrap.
  const deflated = (modeZ || session.mode !== "S") && (await session.transferMode(modeZ));
  // zlib holds the chunks it is given for a while: they must be the transfer's own.
  const [opened, announced, id] = await session.openTransfer(cmd, rest, {
    ownChunks: data.ownChunks || deflated,
    receiveOnly: direction === "download",
  });
  const conn = new GuardedStream(opened);
  const control = session.channel;
  const timeout = session.settings.timeout;
  // While data flows, the final reply may take as long as the transfer: the data connection has
  // its own timeout. The control timeout applies again once the data is done.
  control.setTimeout(0);
  const finalReply = control.finalReply(id);
  // No reply of its own when the server answered the transfer and its ABOR with one.
  const final = finalReply.then(async (reply) => reply ?? (await transfer.afterAbort)?.abort ?? noFinalReply());
  const transfer: RunningTransfer = {
    kind: "running",
    id,
    conn,
    direction,
    final,
    finalReply,
    aborted: false,
    stopped: false,
  };
  session.transfer = transfer;
  let finalArrived = false;
  let finalError: Error | undefined;
  final.then(
    (reply) => {
      finalArrived = true;
      const error = completionError(reply);
      if (error !== undefined && !transfer.aborted) conn.destroy(error);
    },
    (error: Error) => {
      finalArrived = true;
      finalError = error;
      conn.destroy(error);
    },
  );
  let bodyError: unknown;
  try {
    try {
      if (deflated) await withModeZ(conn, direction, (stream) => body(stream, announced));
      else await body(conn, announced);
    } finally {
      conn.released();
    }
  } catch (error) {
    bodyError = error;
    // The failure is this side's. An upload just ends (the server keeps what it got, and the
    // error says it is not all). A download that the server finishes within a moment just
    // ends too; one that goes on is stopped on the server's side with ABOR.
    const running = () => direction === "download" && !transfer.aborted && !finalArrived;
    if (running() && !(await drainedSoon(conn)) && running()) {
      await stopTransfer(session, transfer).catch(() => undefined);
    } else if (bodyError instanceof FtpTimeoutError) {
      // A data connection that stalled will not end kindly either: no wait for it.
      conn.destroy();
    } else {
      await closeData(session, conn, direction);
    }
  } finally {
    control.setTimeout(timeout);
  }
  let reply: Reply;
  try {
    reply = await final;
    await transfer.afterAbort;
  } catch (error) {
    // A data connection whose certificate was refused explains the timeouts that follow it.
    throw bodyError instanceof FtpTlsError ? bodyError : error;
  } finally {
    session.transfer = undefined;
  }
  if (bodyError instanceof FtpTlsError) throw bodyError;
  if (finalError !== undefined) throw finalError;
  // The caller's own failure (a callback or a source that threw) comes first; then the server's.
  if (bodyError !== undefined && !(bodyError instanceof FtpError)) throw bodyError;
  // After abort() the data connection was cut on purpose: the final reply is the result.
  if (transfer.aborted) return reply.text;
  const replyFailure = transfer.stopped ? undefined : completionError(reply);
  if (replyFailure !== undefined) throw replyFailure;
  if (bodyError !== undefined) throw bodyError;
  conn.destroy();
  return reply.text;
}

/** Reads and drops what is left of a download for a moment: true if the server ended it. */
async function drainedSoon(conn: GuardedStream): Promise<boolean> {
  const drained = conn.drain().then(
    () => true,
    () => false,
  );
  return (await settlesWithin(drained, DRAIN_MOMENT)) && drained;
}

/**
 * Ends the data connection of a transfer stopped early, kindly: a download is drained until
 * the server closes it, an upload is ended (with close_notify over TLS). After a short wait the
 * connection is dropped anyway. (vsftpd and pure-ftpd end the whole session when a TLS data
 * connection just drops.)
 */
async function closeData(session: Session, conn: GuardedStream, direction: "download" | "upload"): Promise<void> {
  const settle = direction === "download" ? conn.drain() : conn.end();
  await settlesWithin(settle, Math.min(session.settings.timeout || DATA_CLOSE_PATIENCE, DATA_CLOSE_PATIENCE));
  conn.destroy();
}

// --- Binary transfers ------------------------------------------------------------------------

/** Checks retrBinary's options; throws before anything is queued or sent. */
export function checkRetrOptions(callback: unknown, options: RetrBinaryOptions): void {
  integerOption("blocksize", options.blocksize, 0, 0, MAX_BLOCKSIZE);
  restOption(options.rest);
  functionOption("callback", callback);
  booleanOption("zeroCopy", options.zeroCopy, false);
  booleanOption("modeZ", options.modeZ, false);
  functionOption("onStart", options.onStart);
}

/** retrBinary: TYPE I, then each block to `callback`, in the rule's window. Returns the final reply. */
export async function retrBinary(
  session: Session,
  cmd: string,
  callback: (block: Uint8Array) => unknown,
  options: RetrBinaryOptions,
): Promise<string> {
  const { blocksize = 0, rest, zeroCopy = false, modeZ, onStart } = options;
  await session.setType("I");
  return runTransfer(session, cmd, rest, "download", { ownChunks: !zeroCopy, modeZ }, async (conn, announced) => {
    if (onStart !== undefined) session.rule.nested(() => onStart(announced));
    const deliver = (block: Uint8Array) => session.rule.nested(() => callback(block));
    // Blocks handed out stay what they were (ftplib code keeps them: `received.append(block)`):
    // the transport's own chunks when it can hand them over, copies otherwise.
    const copy = !zeroCopy && !conn.ownsChunks;
    const limit = session.settings.rateLimit;
    // Blocks of `blocksize` at most, and of a rate limit's piece at most.
    const most = Math.min(blocksize > 0 ? blocksize : Infinity, limit?.pieceSize ?? Infinity);
    let received = 0;
    for (let read = await conn.read(); read !== null; read = await conn.read()) {
      const chunk = copy ? Buffer.from(read) : read;
      received += chunk.length;
      for (const block of slices(chunk, most)) {
        await limit?.take(block.length);
        await deliver(block);
      }
    }
    // A size announced for a whole file that did not all arrive: never report it complete.
    if (rest === undefined && announced !== null && received < announced) {
      throw new ErrorProto(`data connection closed after ${received} of ${announced} bytes`, {
        code: "ERR_FTP_SHORT_TRANSFER",
      });
    }
  });
}

/** Checks storBinary's options; throws before anything is queued or sent. */
export function checkStorOptions(options: StorBinaryOptions): void {
  integerOption("blocksize", options.blocksize, DEFAULT_BLOCKSIZE, 1, MAX_BLOCKSIZE);
  restOption(options.rest);
  functionOption("callback", options.callback);
  booleanOption("modeZ", options.modeZ, false);
}

/** storBinary: TYPE I, then the source's blocks, one written while the next is read. */
export async function storBinary(
  session: Session,
  cmd: string,
  source: UploadSource,
  options: StorBinaryOptions,
): Promise<string> {
  const { blocksize = DEFAULT_BLOCKSIZE, callback, rest, modeZ } = options;
  const encode = (text: string) => session.encoding.encode(text);
  await session.setType("I");
  return runTransfer(session, cmd, rest, "upload", { modeZ }, async (conn) => {
    let sent: Promise<unknown> = Promise.resolve();
    try {
      const limit = session.settings.rateLimit;
      for await (const chunk of chunksOf(source, blocksize, encode, (step) => session.rule.nested(step))) {
        for (const block of slices(chunk, limit?.pieceSize ?? Infinity)) {
          await limit?.take(block.length);
          await sent;
          sent = conn.write(block).then(() => callback && session.rule.nested(() => callback(block)));
          sent.catch(() => undefined); // observed at the next turn; never an unhandled rejection meanwhile
        }
      }
    } finally {
      // Never leave a write unobserved, whatever stopped the loop.
      await sent.catch(() => undefined);
    }
    await sent;
    await conn.end();
  });
}
