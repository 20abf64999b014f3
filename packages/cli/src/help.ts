/** The help of the command line as a whole (each command's own: options.ts). */
import { globalOptionLines } from "./options.js";

/** The text of `ftplib --help`. */
export const USAGE = `ftplib: an FTP and FTPS client for the command line and for scripts

Usage:
  ftplib ls     [-l] [-R] [--json] <url>      list a directory, a file or a glob (names; -l details;
                                               -R the whole tree; --json all facts)
  ftplib get    [-c] [-z] [-n N] [--verify] <url>... [local]
                                               download a file (local: a path, a directory, or - for stdout);
                                               several URLs or a glob ('ftp://h/pub/*.csv') into a directory
  ftplib put    [-c] [-z] [--verify] <local>... <url>
                                               upload a file (local - reads stdin; a URL ending in / takes the
                                               local name); several files or a quoted glob into the URL's
                                               directory
  ftplib cat    <url>                          write a remote file to stdout
  ftplib rm     [-r] <url>                     delete a file (-r: a directory and everything in it)
  ftplib mkdir  [-p] <url>                     make a directory (-p: with its parents, no error if it exists)
  ftplib rmdir  <url>                          remove an empty directory
  ftplib mv     <url> <new-name|url>           rename (a bare name stays in the same directory)
  ftplib mirror [-j N] [-n] [--checksum] [--segments N] <url> <local-dir>
                                               download a tree: only files whose size or time changed
  ftplib mirror [-j N] [-n] [--checksum] <local-dir> <url>
                                               upload a tree, the same way (both: --delete,
                                               --include G, --exclude G)
  ftplib help [command]                        this text, or a command's options

URLs:
  ftp://[user[:password]@]host[:port]/path     plain FTP (port 21); --tls for AUTH TLS
  ftpes://...                                  explicit FTPS: AUTH TLS on port 21
  ftps://...                                   implicit FTPS: TLS from the first byte, port 990
  The path is relative to the login directory; %2F starts an absolute one (ftp://h/%2Fetc/motd).
  Special characters in a user or password are percent-encoded (@ is %40).

Credentials, first found wins:
  the URL; --user and --password (or the FTPLIB_PASSWORD environment variable);
  the netrc file (~/.netrc, or --netrc <file>); anonymous.

Options of every command:
${globalOptionLines()}

Each command has options of its own: ftplib <command> --help (or ftplib help <command>).
-z (MODE Z), --verify, --limit-rate, -c and the others are listed there.

Output: data and listings go to stdout; progress, summaries, warnings and errors go to stderr.
Progress bars appear only when stderr is a terminal (or with --progress).

Exit codes:
  0    done
  1    usage: unknown command or option, missing argument, malformed URL
  2    a local file or directory could not be read or written
  3    connection failed or lost: refused, reset, closed, timed out
  4    TLS failed: refused by the server, untrusted or mismatched certificate (see --ca), failed handshake
  5    login refused
  6    the server refused for good (5xx): no such file or directory, no permission
  7    the server refused for now (4xx): try again later
  8    protocol error: a malformed reply, a short transfer, an unsafe name from the server
  10   internal error (a bug: please report it)
  130  interrupted (Ctrl-C)
`;
