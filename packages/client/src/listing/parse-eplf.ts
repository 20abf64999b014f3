/**
 * EPLF (Easily Parsed LIST Format, D. J. Bernstein): `+` facts separated by commas, a tab, the
 * name. `/` a directory, `r` a file, `s` the size, `m` the modification time in Unix seconds,
 * `up` the permissions in octal.
 */
import { type FileEntry, type ListParser, checkedParser } from "./file-entry.js";

/**
 * EPLF lines (`+i8388621.48594,m825718503,r,s280,\tname`).
 *
 * @group Files and listings
 */
export const eplfParser: ListParser = checkedParser({
  name: "eplf",
  test: (line) => line.startsWith("+") && line.includes("\t"),
  parse(line: string): FileEntry | null {
    const tab = line.indexOf("\t");
    if (!line.startsWith("+") || tab < 0) return null;
    const entry: FileEntry = { name: line.slice(tab + 1), type: "unknown", raw: line };
    for (const fact of line.slice(1, tab).split(",")) {
      if (fact === "/") entry.type = "dir";
      else if (fact === "r") entry.type = entry.type === "dir" ? "dir" : "file";
      else if (fact.startsWith("s") && /^\d+$/.test(fact.slice(1))) entry.size = Number(fact.slice(1));
      else if (fact.startsWith("m") && /^\d+$/.test(fact.slice(1)))
        entry.modifiedAt = new Date(Number(fact.slice(1)) * 1000);
      else if (fact.startsWith("up")) entry.permissions = fact.slice(2);
    }
    return entry;
  },
});
