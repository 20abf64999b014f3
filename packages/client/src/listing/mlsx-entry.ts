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
  return factsEntry(name, facts, line);
}

/** An entry from MLSx facts; `cdir` and `pdir` are directories. */
export function factsEntry(name: string, facts: Record<string, string>, raw: string): FileEntry {
  const kind = (facts.type ?? "").toLowerCase();
  const entry: FileEntry = { name, type: "unknown", facts, raw };
  if (kind === "file") entry.type = "file";
  else if (kind === "dir" || kind === "cdir" || kind === "pdir") entry.type = "dir";
  else if (kind.startsWith("os.unix=slink") || kind === "os.unix=symlink") {
    entry.type = "link";
    const colon = (facts.type ?? "").indexOf(":");
    if (colon >= 0 && colon < (facts.type ?? "").length - 1) entry.target = facts.type!.slice(colon + 1);
  }
  const size = facts.size ?? facts.sizd;
  if (size !== undefined && /^\d+$/.test(size)) entry.size = Number(size);
  const modified = facts.modify === undefined ? null : parseTimeValue(facts.modify);
  if (modified !== null) entry.modifiedAt = modified;
  const mode = facts["unix.mode"];
  if (mode !== undefined && /^0?[0-7]{3,4}$/.test(mode)) entry.permissions = modeString(parseInt(mode, 8));
  const owner = facts["unix.ownername"] ?? facts["unix.owner"] ?? facts["unix.uid"];
  const group = facts["unix.groupname"] ?? facts["unix.group"] ?? facts["unix.gid"];
  if (owner !== undefined) entry.owner = owner;
  if (group !== undefined) entry.group = group;
  return checkedEntry(entry);
}

/** `0o755` as `rwxr-xr-x`, made once per mode. */
const modeStrings = new Map<number, string>();

function modeString(mode: number): string {
  let out = modeStrings.get(mode & 0o777);
  if (out === undefined) {
    const bits = "rwxrwxrwx";
    out = "";
    for (let i = 0; i < 9; i++) out += mode & (1 << (8 - i)) ? bits[i] : "-";
    modeStrings.set(mode & 0o777, out);
  }
  return out;
}
