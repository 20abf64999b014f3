/**
 * Audit events as `node:diagnostics_channel` channels, named after ftplib's audit events.
 * Commands are published masked: a subscriber never sees a password.
 */
import { channel } from "node:diagnostics_channel";

/**
 * `{ ftp, host, port }` when a connection is made.
 *
 * @group The ftplib API
 */
export const connectChannel = channel("ftplib.connect");
/**
 * `{ ftp, command }` for each command sent, with PASS and ACCT arguments masked.
 *
 * @group The ftplib API
 */
export const sendcmdChannel = channel("ftplib.sendcmd");
