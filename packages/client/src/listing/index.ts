export type { FileEntry, ListOptions, ListParser } from "./file-entry.js";
export { factsEntry, mlsxFileEntry } from "./mlsx-entry.js";
export { ListParserStream, listParsers, parseList } from "./parse-list.js";
export { unixParser } from "./parse-unix.js";
export { dosParser } from "./parse-dos.js";
export { eplfParser } from "./parse-eplf.js";
export { netwareParser, os400Parser, vmsParser } from "./parse-other.js";
