/**
 * Globs on the command line (picomatch): remote ones in the last segment of a URL's path
 * (`ftp://host/pub/*.csv`, matched against the directory's listing), local ones that the shell
 * left quoted (`put '*.log' ...`), and mirror's --include and --exclude.
 */
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import picomatch from "picomatch";

/** True when `text` has glob syntax: `*`, `?`, `[...]`, `{a,b}`. */
export function isGlob(text: string): boolean {
  return picomatch.scan(text).isGlob;
}

/** A matcher of names as a shell matches them: `*` takes no leading dot, no `/`. */
export function nameMatcher(pattern: string): (name: string) => boolean {
  return picomatch(pattern, { dot: false });
}

/**
 * The local files that a glob names, sorted: a glob in the last segment (`logs/*.log`) or in
 * several (a `**` goes down the tree), below the literal directory it starts with. Files and
 * links (as the shell would list them); directories are not walked into through links.
 */
export async function expandLocalGlob(pattern: string): Promise<string[]> {
  const { base, glob } = picomatch.scan(pattern);
  const root = base === "" ? "." : base;
  const matches = picomatch(glob, { dot: false });
  const found: string[] = [];
  const deep = glob.includes("/") || glob.includes("**");
  const visit = async (relative: string, depth: number): Promise<void> => {
    const dirents = await readdir(relative === "" ? root : join(root, relative), { withFileTypes: true }).catch(
      () => [],
    );
    for (const dirent of dirents) {
      const path = relative === "" ? dirent.name : `${relative}/${dirent.name}`;
      if (dirent.isDirectory()) {
        if (deep && depth < 64) await visit(path, depth + 1);
      } else if ((dirent.isFile() || dirent.isSymbolicLink()) && matches(path)) {
        found.push(base === "" ? path : join(base, path));
      }
    }
  };
  await visit("", 1);
  return found.sort();
}

/** What --include and --exclude keep of a tree, by paths relative to its root (`/`-separated). */
export interface TreeFilter {
  /** False for a directory that --exclude names: it is skipped with everything in it. */
  dir(relativePath: string): boolean;
  /** True for a file that --exclude does not name and --include (when given) does. */
  file(relativePath: string): boolean;
  /** True when there are --include patterns: directories are then made only for what they hold. */
  readonly includes: boolean;
  /** True when any pattern was given. */
  readonly active: boolean;
}

/**
 * A pattern with a `/` matches the whole path below the root (a leading `/` anchors nothing more);
 * one without matches the last segment at any depth (`*.tmp` is every `.tmp` file), as in rsync.
 * `*` matches names with a leading dot too: a mirror copies them.
 */
function pathMatcher(patterns: readonly string[]): (relativePath: string) => boolean {
  const tests = patterns.map((pattern) => {
    const anchored = pattern.replace(/^\/+/, "").replace(/\/+$/, "");
    const match = picomatch(anchored, { dot: true });
    if (pattern.replace(/\/+$/, "").includes("/")) return match;
    return (path: string) => match(path.slice(path.lastIndexOf("/") + 1));
  });
  return (path) => tests.some((test) => test(path));
}

export function treeFilter(include: readonly string[], exclude: readonly string[]): TreeFilter {
  const excluded = pathMatcher(exclude);
  const included = pathMatcher(include);
  const includes = include.length > 0;
  return {
    dir: (path) => !excluded(path),
    file: (path) => !excluded(path) && (!includes || included(path)),
    includes,
    active: includes || exclude.length > 0,
  };
}
