/**
 * Parsed directory listings: MLSD when the server offers it, LIST otherwise, read whole
 * (`list`) or as they arrive (the FTP class's `listStream`, over text-transfers' lineBatches).
 */
import type { ListingOptions } from "./ftp-options.js";
import { type FileEntry, ListParserStream, mlsxFileEntry } from "./listing/index.js";
import { booleanOption, invalidOption } from "./options.js";
import type { Session } from "./session.js";
import { readLines } from "./text-transfers.js";

/** The listing command: the one asked for, or MLSD when the server lists MLST among its features. */
export async function listingCommand(session: Session, options: ListingOptions): Promise<"MLSD" | "LIST"> {
  booleanOption("modeZ", options.modeZ, false);
  if (options.command === "MLSD" || options.command === "LIST") return options.command;
  if (options.command !== undefined) throw invalidOption(TypeError, "command", '"MLSD" or "LIST"', options.command);
  return (await session.features()).has("MLST") ? "MLSD" : "LIST";
}

/**
 * Entries of listing lines. MLSD marks the listing and its parent by type (cdir, pdir); LIST
 * only by name, `.` and `..`. (A file that MLSD calls `..` is kept, for the caller to refuse.)
 */
export function listingParser(verb: "MLSD" | "LIST", options: ListingOptions): (line: string) => FileEntry | null {
  if (verb === "MLSD") return mlsxFileEntry;
  const parser = new ListParserStream(options);
  return (line) => {
    const entry = parser.parse(line);
    return entry === null || entry.name === "." || entry.name === ".." ? null : entry;
  };
}

/** A directory's entries, parsed (see FTP.list). */
export async function list(
  session: Session,
  path: string,
  options: ListingOptions,
  maxBytes: number,
): Promise<FileEntry[]> {
  const verb = await listingCommand(session, options);
  const parse = listingParser(verb, options);
  const entries: FileEntry[] = [];
  const cmd = path === "" ? verb : `${verb} ${path}`;
  const keep = (line: string) => {
    const entry = parse(line);
    if (entry !== null) entries.push(entry);
  };
  await readLines(session, cmd, maxBytes, keep, { modeZ: options.modeZ });
  return entries;
}
