/**
 * The options of the command line: those of every command (connection, credentials, output), and
 * each command's own. An option that means nothing for the command is refused, naming the command.
 * The help texts are made from the same tables.
 */
import { parseArgs } from "node:util";
import { CliError, ExitCode } from "./exit-codes.js";

export interface OptionDef {
  type: "boolean" | "string";
  short?: string;
  /** Repeatable: every value kept. */
  multiple?: boolean;
  /** What the value is, in the help (`<sec>`). */
  arg?: string;
  /** The help text, one or more lines. */
  help: string;
}

export type OptionTable = Readonly<Record<string, OptionDef>>;

/** Options every command takes: how to connect and log in, what to print. */
export const GLOBAL_OPTIONS: OptionTable = {
  user: { type: "string", short: "u", arg: "<name>", help: "user name" },
  password: {
    type: "string",
    arg: "<secret>",
    help: "password (visible to other users in the process list: prefer .netrc\nor FTPLIB_PASSWORD)",
  },
  netrc: { type: "string", arg: "<file>", help: "read credentials from this file instead of ~/.netrc" },
  "no-netrc": { type: "boolean", help: "read no netrc file" },
  tls: { type: "boolean", help: "explicit TLS (AUTH TLS) on an ftp:// URL; data protected too (PROT P)" },
  ca: { type: "string", arg: "<file>", help: "trust the certificate authorities in this PEM file" },
  insecure: {
    type: "boolean",
    help: "DANGEROUS: do not check the server's certificate. Anyone between you\nand the server can then read and change the session, password included",
  },
  active: {
    type: "boolean",
    short: "a",
    help: "active mode (the server connects back: PORT/EPRT); passive by default",
  },
  timeout: {
    type: "string",
    arg: "<sec>",
    help: "give up when the server is silent this long (default 30; 0: never)",
  },
  retry: {
    type: "string",
    arg: "<n>",
    help: "try again up to n times after a transient failure: a 4xx reply, a reset\nor lost connection, a timeout (not a 5xx reply, a refused login or TLS)",
  },
  "retry-delay": {
    type: "string",
    arg: "<sec>",
    help: "the wait before the first retry (default 1), doubled before each next\none (at most 10 minutes)",
  },
  quiet: { type: "boolean", short: "q", help: "no progress bars, no summary" },
  debug: {
    type: "boolean",
    help: "print the control connection's commands and replies on stderr,\npasswords masked",
  },
  help: { type: "boolean", short: "h", help: "help (ftplib <command> --help: the command's)" },
  version: { type: "boolean", short: "V", help: "the version" },
};

const compress = (what: string): OptionDef => ({
  type: "boolean",
  short: "z",
  help: `deflate the data connection (MODE Z) where the server offers it (FEAT),\nuncompressed otherwise: ${what}`,
});
const limitRate = (more = ""): OptionDef => ({
  type: "string",
  arg: "<rate>",
  help: `at most this many bytes per second (500k, 2M: k, M and G are 1024,\n1024², 1024³)${more}`,
});
const verify = (what: string): OptionDef => ({
  type: "boolean",
  help: `compare ${what} with the server's after the transfer: its hash (HASH,\nXSHA256, XMD5...) where the server can, else its size (said on stderr).\nA mismatch fails (exit 8) and leaves no file behind`,
});
const progress: OptionDef = { type: "boolean", help: "progress bars even when stderr is not a terminal" };
const fsync: OptionDef = {
  type: "boolean",
  help: "flush each downloaded file to the disk before it is renamed into place\n(off by default, as in curl, wget and rclone)",
};

export interface CommandDef {
  /** The synopsis lines, after `ftplib `. */
  usage: readonly string[];
  /** What the command does, for its help. */
  about: string;
  options: OptionTable;
}

export const COMMANDS = {
  ls: {
    usage: ["ls [-l] [-R] [--json] <url>"],
    about:
      "List a directory: names, one per line, sorted. A file's URL lists that file; a glob in\nthe last segment ('ftp://h/pub/*.csv', quoted for the shell) the entries it matches.",
    options: {
      long: {
        type: "boolean",
        short: "l",
        help: "type, permissions, owner, group, size, time (local: TZ for another\nzone) and name",
      },
      json: { type: "boolean", help: "a JSON array of entries, with all their facts (-R: their paths too)" },
      recursive: {
        type: "boolean",
        short: "R",
        help: "the whole tree, one path per line below the URL (links not followed;\n-r is rm's)",
      },
      compress: compress("listings shrink to a fraction on the wire"),
    },
  },
  get: {
    usage: ["get [-c] [-z] [-n N] [--verify] <url>... [local]"],
    about:
      "Download a file to local: a path, a directory (the file goes into it), or - for stdout\n(default: its name, in the current directory). Written under a temporary name, renamed\nonly when complete and the size matches the server's.\nSeveral URLs, or a glob in the last segment of one ('ftp://h/pub/*.csv', quoted for the\nshell), go into a directory: the last argument when it is not a URL (it must exist), else\nthe current one. One that fails is named on stderr and the others still come.",
    options: {
      resume: { type: "boolean", short: "c", help: "continue a partial download" },
      segments: {
        type: "string",
        short: "n",
        arg: "<n>",
        help: "the file over n connections at once, each fetching its own part (as\nlftp's pget -n; at most 16); a file under 2 MiB, or stdout, takes one",
      },
      verify: verify("the file"),
      fsync,
      compress: compress("text moves faster on a slow link"),
      "limit-rate": limitRate(),
      progress,
      verbose: { type: "boolean", short: "v", help: "with --verify: the digest that matched" },
    },
  },
  put: {
    usage: ["put [-c] [-z] [--verify] <local>... <url>"],
    about:
      "Upload a file (local - reads stdin); a URL ending in / takes the local name. Several\nfiles (the shell's *.log, or a quoted glob that ftplib expands, ** included) go into the\nURL's directory, each under its own name. mirror copies directories.",
    options: {
      resume: { type: "boolean", short: "c", help: "continue after the bytes the server has (APPE)" },
      verify: verify("the file"),
      compress: compress(
        "text moves faster on a slow link. proftpd up to\n1.3.8 mishandles compressed uploads: not with it",
      ),
      "limit-rate": limitRate(),
      progress,
      verbose: { type: "boolean", short: "v", help: "with --verify: the digest that matched" },
    },
  },
  cat: {
    usage: ["cat <url>"],
    about: "Write a remote file to stdout.",
    options: {
      compress: compress("text moves faster on a slow link"),
      "limit-rate": limitRate(),
    },
  },
  rm: {
    usage: ["rm [-r] <url>"],
    about: "Delete a file.",
    options: { recursive: { type: "boolean", short: "r", help: "a directory and everything in it" } },
  },
  mkdir: {
    usage: ["mkdir [-p] <url>"],
    about: "Make a directory.",
    options: {
      parents: { type: "boolean", short: "p", help: "make missing parents too, and no error if it exists" },
    },
  },
  rmdir: { usage: ["rmdir <url>"], about: "Remove an empty directory.", options: {} },
  mv: {
    usage: ["mv <url> <new-name|url>"],
    about:
      "Rename: the new name is a name in the same directory, a path (/ for absolute), or a URL\non the same server.",
    options: {},
  },
  mirror: {
    usage: [
      "mirror [-j N] [-n] [--checksum] [--segments N] [--delete]\n                     [--include G] [--exclude G] <url> <local-dir>",
      "mirror [-j N] [-n] [--checksum] [--delete] [--include G] [--exclude G]\n                     <local-dir> <url>",
    ],
    about:
      "Copy a tree down (a URL first) or up (a local directory first): only the files that are\nnew or whose size or time differ. Files that fail do not stop the others. Each file done\ngets a line on stderr on a terminal (or with -v); every run ends with a summary there\n(-q: none).",
    options: {
      parallel: {
        type: "string",
        short: "j",
        arg: "<n>",
        help: "transfers at once, one connection each (default 4, at most 16)",
      },
      segments: {
        type: "string",
        arg: "<n>",
        help: "download files of 8 MiB and more over up to n connections each, taken\nfrom the -j connections",
      },
      "dry-run": {
        type: "boolean",
        short: "n",
        help: "print what would be transferred (and deleted), change nothing",
      },
      checksum: {
        type: "boolean",
        help: "a file of the same size on both sides is compared by hash, not time\n(where the server can hash; otherwise said, and size and time used)",
      },
      include: {
        type: "string",
        multiple: true,
        arg: "<glob>",
        help: "copy only the paths that match (repeatable; a glob without / matches\na name at any depth, one with / the path below the root)",
      },
      exclude: {
        type: "string",
        multiple: true,
        arg: "<glob>",
        help: "leave the matching paths alone, a directory with all it holds\n(repeatable; wins over --include)",
      },
      delete: {
        type: "boolean",
        help: "remove from the target what the source no longer has (not what the\nfilters leave out; nothing when a transfer failed)",
      },
      verify: verify("each file"),
      fsync,
      compress: compress(
        "text moves faster on a slow link. proftpd up to\n1.3.8 mishandles compressed uploads: down only with it",
      ),
      "limit-rate": limitRate("; all the transfers together"),
      json: { type: "boolean", help: "a JSON summary on stdout" },
      verbose: {
        type: "boolean",
        short: "v",
        help: "a line per file transferred even when stderr is not a terminal",
      },
      progress,
    },
  },
} as const satisfies Record<string, CommandDef>;

export type CommandName = keyof typeof COMMANDS;

export function isCommandName(name: string): name is CommandName {
  return Object.hasOwn(COMMANDS, name);
}

/** The values parsed: a string (or strings) or true, by option name. */
export type OptionValues = Record<string, string | boolean | string[] | undefined>;

type ParseArgsOptions = NonNullable<Parameters<typeof parseArgs>[0]>["options"];

function parseArgsOptions(table: OptionTable): ParseArgsOptions {
  const options: ParseArgsOptions = {};
  for (const [name, def] of Object.entries(table))
    options[name] = {
      type: def.type,
      ...(def.short !== undefined ? { short: def.short } : {}),
      ...(def.multiple ? { multiple: true } : {}),
    };
  return options;
}

/**
 * The command named on the line: the first word that is not an option or an option's value.
 * Options before it are read as any command reads them (a value for `-j`, `--timeout`...).
 */
export function commandNameOf(argv: readonly string[]): string | undefined {
  const everything: Record<string, OptionDef> = { ...GLOBAL_OPTIONS };
  const shortTypes = new Map<string, Set<string>>();
  for (const command of Object.values(COMMANDS) as CommandDef[])
    for (const [name, def] of Object.entries(command.options)) {
      everything[name] ??= def;
      if (def.short !== undefined) shortTypes.set(def.short, (shortTypes.get(def.short) ?? new Set()).add(def.type));
    }
  // A letter that takes a value for one command and none for another (-n) cannot tell before the command.
  for (const [name, def] of Object.entries(everything))
    if (def.short !== undefined && (shortTypes.get(def.short)?.size ?? 1) > 1)
      everything[name] = { ...def, short: undefined };
  const { positionals } = parseArgs({
    args: [...argv],
    options: parseArgsOptions(everything),
    allowPositionals: true,
    strict: false,
  });
  return positionals[0];
}

export interface ParsedLine {
  values: OptionValues;
  positionals: string[];
}

/** Reads `argv` with the options of `command` (every command's, without one). */
export function parseLine(argv: readonly string[], command: CommandName | undefined): ParsedLine {
  const table: OptionTable =
    command === undefined ? GLOBAL_OPTIONS : { ...GLOBAL_OPTIONS, ...COMMANDS[command].options };
  const { values, positionals, tokens } = parseArgs({
    args: [...argv],
    options: parseArgsOptions(table),
    allowPositionals: true,
    strict: false,
    tokens: true,
  });
  const forWhat = command === undefined ? "" : ` for ${command}`;
  const seeHelp = `See ftplib ${command === undefined ? "" : `${command} `}--help.`;
  for (const token of tokens) {
    if (token.kind !== "option") continue;
    const def = Object.hasOwn(table, token.name) ? table[token.name] : undefined;
    if (def === undefined) {
      // (An unknown letter comes as its name: -c is "c".)
      const elsewhere = Object.entries(COMMANDS as Record<string, CommandDef>)
        .filter(
          ([, c]) =>
            Object.hasOwn(c.options, token.name) || Object.values(c.options).some((d) => d.short === token.name),
        )
        .map(([name]) => name);
      if (command !== undefined && elsewhere.length > 0)
        throw new CliError(
          `${token.rawName} is not an option${forWhat} (it is one of ${elsewhere.join(", ")}). ${seeHelp}`,
          ExitCode.USAGE,
        );
      throw new CliError(`unknown option ${token.rawName}${forWhat}. ${seeHelp}`, ExitCode.USAGE);
    }
    if (def.type === "string" && token.value === undefined)
      throw new CliError(`${token.rawName} needs a value. ${seeHelp}`, ExitCode.USAGE);
    if (def.type === "boolean" && token.inlineValue === true)
      throw new CliError(`${token.rawName} takes no value. ${seeHelp}`, ExitCode.USAGE);
  }
  return { values: values as OptionValues, positionals };
}

/** The help lines of some options, their descriptions aligned. */
function optionLines(table: OptionTable): string {
  const lines: string[] = [];
  for (const [name, def] of Object.entries(table)) {
    const flag = `${def.short !== undefined ? `-${def.short}, ` : "    "}--${name}${def.arg !== undefined ? ` ${def.arg}` : ""}`;
    const [first, ...rest] = def.help.split("\n");
    const pad = 26;
    lines.push(`  ${flag.padEnd(pad - 2)}${flag.length >= pad - 2 ? `\n${" ".repeat(pad)}` : ""}${first}`);
    for (const line of rest) lines.push(`${" ".repeat(pad)}${line}`);
  }
  return lines.join("\n").replace(/ +\n/g, "\n");
}

/** The options every command takes, for the help texts. */
export const globalOptionLines = (): string => optionLines(GLOBAL_OPTIONS);

/** The text of `ftplib <command> --help`. */
export function commandHelp(command: CommandName): string {
  const def: CommandDef = COMMANDS[command];
  const usage = def.usage.map((line, i) => `${i === 0 ? "Usage: " : "       "}ftplib ${line}`).join("\n");
  const own = Object.keys(def.options).length > 0 ? `\nOptions:\n${optionLines(def.options)}\n` : "";
  return `${usage}

${def.about}
${own}
Options of every command:
${globalOptionLines()}

URLs, credentials, output and exit codes: ftplib --help.
`;
}
