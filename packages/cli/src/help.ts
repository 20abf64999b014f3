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

URLs:
  ftp://[user[:password]@]host[:port]/path     plain FTP (port 21); --tls for AUTH TLS
  ftpes://...                                  explicit FTPS: AUTH TLS on port 21
  ftps://...                                   implicit FTPS: TLS from the first byte, port 990
  The path is relative to the login directory; %2F starts an absolute one (ftp://h/%2Fetc/motd).
  Special characters in a user or password are percent-encoded (@ is %40).

Credentials, first found wins:
  the URL; --user and --password (or the FTPLIB_PASSWORD environment variable);
  the netrc file (~/.netrc, or --netrc <file>); anonymous.

Options:
  -u, --user <name>       user name
      --password <secret> password (visible to other users in the process list: prefer .netrc
                          or FTPLIB_PASSWORD)
      --netrc <file>      read credentials from this file instead of ~/.netrc
      --no-netrc          read no netrc file
      --tls               explicit TLS (AUTH TLS) on an ftp:// URL; data protected too (PROT P)
      --ca <file>         trust the certificate authorities in this PEM file
      --insecure          DANGEROUS: do not check the server's certificate. Anyone between you
                          and the server can then read and change the session, password included
  -a, --active            active mode (the server connects back: PORT/EPRT); passive by default
      --timeout <sec>     give up when the server is silent this long (default 30)
  -l, --long              ls: type, permissions, owner, group, size, local time and name
      --json              ls: a JSON array of entries; mirror: a JSON summary
  -r, --recursive         rm: remove a directory tree (ls: -R, the whole tree listed)
  -p, --parents           mkdir: make missing parents too
  -c, --resume            get: continue a partial download (put: continue an upload)
  -n <n>                  get: the file over n connections at once, each fetching its own part
                          (as lftp's pget -n; at most 16); a file under 2 MiB takes one
      --verify            get, put, mirror: compare each file with the server's after the transfer:
                          its hash (HASH, XSHA256, XMD5...) where the server can, else its size
                          (said on stderr). A mismatch fails (exit 8) and leaves no file behind
      --checksum          mirror: a file of the same size on both sides is compared by hash, not
                          time (where the server can hash; otherwise said, and size and time used)
  -z, --compress          get, put, mirror, ls, cat: deflate the data connection (MODE Z) where the
                          server offers it (FEAT), uncompressed otherwise: text moves faster on a
                          slow link. proftpd up to 1.3.8 mishandles compressed uploads (put, mirror
                          up): use -z with it for downloads only
  -j, --parallel <n>      mirror: transfers at once, one connection each (default 4, at most 16)
      --segments <n>      mirror: files of 8 MiB and more over up to n connections each, taken
                          from the -j connections
  -n, --dry-run           mirror: print what would be transferred (and deleted), change nothing
                          (after get, -n is the number of connections)
      --include <glob>    mirror: copy only paths that match (repeatable; a glob without / matches
                          a name at any depth, one with / the path below the root)
      --exclude <glob>    mirror: leave matching paths alone, a directory with all it holds
                          (repeatable; wins over --include)
      --delete            mirror: remove from the target what the source no longer has
      --fsync             get, mirror: flush each downloaded file to the disk before it is
                          renamed into place (off by default, as in curl, wget and rclone)
      --progress          progress bars even when stderr is not a terminal
  -q, --quiet             no progress bars, no summary
  -v, --verbose           mirror: a line per file transferred even when stderr is not a terminal
      --debug             print the control connection's commands and replies on stderr,
                          passwords masked
  -h, --help              this text
  -V, --version           the version

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
