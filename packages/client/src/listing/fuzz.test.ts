/**
 * Fuzzing the listing parsers: any line, random or a real server's line with a field changed,
 * gives an entry that makes sense (a name, a known type, a safe size, a valid date) or none, and
 * never an exception; MLSx lines fail only with ErrorProto. FTPLIB_FUZZ_RUNS sets the runs.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { ErrorProto } from "@ftplib/protocol";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { FileEntry } from "./file-entry.js";
import { mlsxFileEntry } from "./mlsx-entry.js";
import { ListParserStream, listParsers } from "./parse-list.js";

const RUNS = Number(process.env.FTPLIB_FUZZ_RUNS ?? 1000);
const fixtures = join(import.meta.dirname, "../../test/fixtures/listings");
const realLines = readdirSync(fixtures).flatMap((file) =>
  readFileSync(join(fixtures, file), "utf8").split(/\r?\n/).filter(Boolean),
);
const samples = [
  ...realLines,
  "01-02-26  03:04PM       <DIR>          dir",
  "+i8388621.29609,m824255902,/,\tdev",
  "d [RWCEAFMS] user 512 Jan 01 12:00 dir",
  "FILE.TXT;1   2/4   22-NOV-2026 03:14:15  [USER]  (RWED,RWED,RE,)",
  "QSYS  12345 22/11/26 03:14:15 *STMF  name",
];

function checkEntry(entry: FileEntry | null): void {
  if (entry === null) return;
  expect(typeof entry.name).toBe("string");
  expect(["file", "dir", "link", "unknown"]).toContain(entry.type);
  if (entry.size !== undefined)
    expect(Number.isSafeInteger(entry.size) && entry.size >= 0, `size ${entry.size}`).toBe(true);
  if (entry.modifiedAt !== undefined)
    expect(Number.isNaN(entry.modifiedAt.getTime()), `date of ${JSON.stringify(entry.raw)}`).toBe(false);
}

/** A real line with one whitespace-separated field replaced, or bytes spliced in. */
const mutated = fc
  .tuple(
    fc.constantFrom(...samples),
    fc.nat(),
    fc.oneof(
      fc.string({ unit: "binary", maxLength: 30 }),
      fc.constantFrom(
        "99999999999999999999999",
        "-1",
        "Feb",
        "31",
        "99:99",
        "2026",
        "1e400",
        "0x10",
        "<DIR>",
        "->",
        ";",
        "=",
        ".",
        "..",
      ),
    ),
  )
  .map(([line, at, value]) => {
    const fields = line.split(/(\s+)/);
    const i = (at % Math.ceil(fields.length / 2)) * 2;
    fields[i] = value;
    return fields.join("");
  });
const line = fc.oneof(fc.string({ unit: "binary", maxLength: 120 }), mutated);

describe("fuzzing the listing parsers", () => {
  it("LIST lines: a sensible entry or none, never an exception", () => {
    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: 5 }), (lines) => {
        for (const parser of [
          new ListParserStream(),
          ...listParsers.map((p) => new ListParserStream({ parsers: [p] })),
        ]) {
          for (const l of lines) checkEntry(parser.parse(l));
        }
      }),
      { numRuns: RUNS },
    );
  });

  it("MLSx lines: a sensible entry or none, or ErrorProto", () => {
    fc.assert(
      fc.property(line, (l) => {
        try {
          checkEntry(mlsxFileEntry(l));
        } catch (error) {
          expect(ErrorProto.isInstance(error), String(error)).toBe(true);
        }
      }),
      { numRuns: RUNS },
    );
  });
});
