/** MLSD and MLST entries (RFC 3659) as FileEntry. */
import { parseMlsxEntry, parseTimeValue } from "@ftplib/protocol";
import { type FileEntry, checkedEntry } from "./file-entry.js";

/**
 * The entry of an MLSx line, or null for the listed directory itself and its parent (`cdir`,
 * `pdir`). Links: `OS.unix=slink:target` (target known) or `OS.unix=symlink`.
 */
export function mlsxFileEntry(line: string): FileEntry | null {
  const [name, facts] = parseMlsxEntry(line);
  const kind = (facts.type ?? "").toLowerCase();
  if (kind === "cdir" || kind === "pdir") return null;
  return entryOf(name, facts, line, kind);
}

/** An entry from MLSx facts; `cdir` and `pdir` are directories. */
export function factsEntry(name: string, facts: Record<string, string>, raw: string): FileEntry {
  return entryOf(name, facts, raw, (facts.type ?? "").toLowerCase());
}

/** `factsEntry`, with the type fact lower-cased already. */
function entryOf(name: string, facts: Record<string, string>, raw: string, kind: string): FileEntry {
  const entry: FileEntry = { name, type: "unknown", facts, raw };
  if (kind === "file") entry.type = "file";
  else if (kind === "dir" || kind === "cdir" || kind === "pdir") entry.type = "dir";
  else if (kind.startsWith("os.unix=slink") || kind === "os.unix=symlink") {
    entry.type = "link";
    const colon = (facts.type ?? "").indexOf(":");
    if (colon >= 0 && colon < (facts.type ?? "").length - 1) entry.target = facts.type!.slice(colon + 1);
  }
  const size = facts.size ?? facts.sizd;
  if (size !== undefined && isDigits(size)) entry.size = Number(size);
  const modified = facts.modify === undefined ? null : parseTimeValue(facts.modify);
  if (modified !== null) entry.modifiedAt = modified;
  const mode = facts["unix.mode"];
  const permissions = mode === undefined ? undefined : modeString(mode);
  if (permissions !== undefined) entry.permissions = permissions;
  const owner = facts["unix.ownername"] ?? facts["unix.owner"] ?? facts["unix.uid"];
  const group = facts["unix.groupname"] ?? facts["unix.group"] ?? facts["unix.gid"];
  if (owner !== undefined) entry.owner = owner;
  if (group !== undefined) entry.group = group;
  return checkedEntry(entry);
}

/** Whether `text` is one or more ASCII digits. */
function isDigits(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** `unix.mode` values (`0755`, `644`) as `rwxr-xr-x`, by the text: a listing repeats a few. */
const modeStrings = new Map<string, string | undefined>();

/** The permissions of a `unix.mode` fact, or undefined when it is not 3 or 4 octal digits. */
function modeString(text: string): string | undefined {
  let out = modeStrings.get(text);
  if (out !== undefined || modeStrings.has(text)) return out;
  if (/^0?[0-7]{3,4}$/.test(text)) {
    const mode = parseInt(text, 8);
    const bits = "rwxrwxrwx";
    out = "";
    for (let i = 0; i < 9; i++) out += mode & (1 << (8 - i)) ? bits[i] : "-";
  }
  if (modeStrings.size < 1024) modeStrings.set(text, out);
  return out;
}
