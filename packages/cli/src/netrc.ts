/**
 * `~/.netrc`: `machine <host> login <user> password <secret> [account <acct>]`, `default` for any
 * other host, `macdef` blocks skipped, as ftp(1) and curl read it.
 */
import { open } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";

export interface NetrcEntry {
  login?: string;
  password?: string;
  account?: string;
}

/** The words of a netrc file; `"quoted words"` may hold spaces, `\` escapes the next character. */
function tokens(text: string): string[] {
  const found: string[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (/^\s*#/.test(line)) continue;
    if (/^\s*macdef\b/.test(line)) {
      // A macro runs to the next empty line.
      while (i + 1 < lines.length && lines[i + 1]!.trim() !== "") i++;
      continue;
    }
    for (const match of line.matchAll(/"((?:[^"\\]|\\.)*)"|((?:[^\s"\\]|\\.)+)/g)) {
      found.push((match[1] ?? match[2] ?? "").replace(/\\(.)/g, "$1"));
    }
  }
  return found;
}

/**
 * The entry for `host` (and `login`, when the URL names a user), falling back to `default`.
 *
 * @returns the entry, or undefined when neither the host's nor a `default` entry exists.
 */
export function findNetrcEntry(text: string, host: string, login?: string): NetrcEntry | undefined {
  const words = tokens(text);
  const entries: { machine: string | null; entry: NetrcEntry }[] = [];
  let current: { machine: string | null; entry: NetrcEntry } | undefined;
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (word === "machine" || word === "default") {
      current = { machine: word === "machine" ? (words[++i] ?? "") : null, entry: {} };
      entries.push(current);
    } else if (current !== undefined && (word === "login" || word === "password" || word === "account")) {
      current.entry[word] = words[++i] ?? "";
    }
  }
  const fits = (e: { machine: string | null; entry: NetrcEntry }) =>
    login === undefined || e.entry.login === undefined || e.entry.login === login;
  const lower = host.toLowerCase();
  return (
    entries.find((e) => e.machine !== null && e.machine.toLowerCase() === lower && fits(e))?.entry ??
    entries.find((e) => e.machine === null && fits(e))?.entry
  );
}

/**
 * Reads `path` (default `~/.netrc`); a missing file is no entry. `warn` is told when the file is
 * readable or writable by others than its owner (its passwords are then not secret), as ftp(1) and
 * curl warn.
 *
 * @returns the entry for the host, or undefined when there is none (or no file).
 */
export async function readNetrc(
  host: string,
  login: string | undefined,
  path?: string,
  warn?: (line: string) => void,
): Promise<NetrcEntry | undefined> {
  const file = path ?? join(homedir(), ".netrc");
  let text: string;
  try {
    const handle = await open(file, "r");
    try {
      const { mode } = await handle.stat();
      if (warn !== undefined && process.platform !== "win32" && (mode & 0o077) !== 0)
        warn(
          `ftplib: WARNING: ${file} is open to others than its owner (mode ${(mode & 0o777).toString(8)}): chmod 600 ${file}`,
        );
      text = await handle.readFile("utf8");
    } finally {
      await handle.close();
    }
  } catch (error) {
    if (path === undefined && (error as { code?: string }).code === "ENOENT") return undefined;
    throw error;
  }
  return findNetrcEntry(text, host, login);
}
