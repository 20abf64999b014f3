/**
 * Steps shared by scripted hostile-server sessions (`startHostileServer(script)`), for tests that
 * drive a session line by line rather than with a table of handlers.
 */
import type net from "node:net";
import type { HostileSession } from "@ftplib/testing";

/** Greets, then logs in anyone: `230` to USER, `200 OK` to whatever comes before it. */
export async function greetAndLogin(session: HostileSession): Promise<void> {
  await session.send("220 scripted\r\n");
  await session.until("USER");
  await session.send("230 ok\r\n");
}

/**
 * Answers EPSV with a passive listener, waits for the transfer command `verb` (answering the
 * commands before it with `200 OK`) and returns its line, with the client's data connection once
 * it connects (before any 1xx is sent).
 */
export async function passiveTransfer(
  session: HostileSession,
  verb: string,
): Promise<{ command: string; data: () => Promise<net.Socket> }> {
  await session.until("EPSV");
  const listener = await session.passive();
  await session.send(`229 (|||${listener.port}|)\r\n`);
  const command = await session.until(verb);
  return { command, data: listener.connection };
}
