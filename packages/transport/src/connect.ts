/**
 * Opening sockets with a deadline: a connect (and TLS handshake) that does not finish within the
 * timeout fails with FtpTimeoutError, and the socket is destroyed.
 */
import { type AbortSignalLike, FtpTimeoutError } from "@ftplib/protocol";
import type { Socket } from "node:net";
import { toFtpError } from "./errors.js";

/**
 * Waits for `socket` to emit `readyEvent` ('connect' or 'secureConnect'). On error, timeout or
 * abort the socket is destroyed and the promise rejects with the contract's error.
 */
export function whenReady<S extends Socket>(
  socket: S,
  readyEvent: "connect" | "secureConnect",
  what: string,
  timeout = 0,
  signal?: AbortSignalLike,
): Promise<S> {
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const cleanup = () => {
      if (timer !== undefined) clearTimeout(timer);
      socket.off(readyEvent, onReady);
      socket.off("error", onError);
      signal?.removeEventListener("abort", onAbort);
    };
    const failWith = (error: Error) => {
      cleanup();
      socket.destroy();
      reject(error);
    };
    const onReady = () => {
      cleanup();
      resolve(socket);
    };
    const onError = (error: Error) => failWith(toFtpError(error, what));
    const onAbort = () => failWith(toFtpError(signal?.reason ?? new Error("aborted"), what));
    if (signal?.aborted) return onAbort();
    socket.once(readyEvent, onReady);
    socket.once("error", onError);
    signal?.addEventListener("abort", onAbort, { once: true });
    if (timeout > 0) {
      timer = setTimeout(() => failWith(new FtpTimeoutError(`${what}: no connection within ${timeout} ms`)), timeout);
    }
  });
}
