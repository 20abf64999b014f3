/**
 * The code blocks of a Markdown file, with the `docs-run` directive written before each one.
 *
 * A directive is an HTML comment on the line before the opening fence (invisible on GitHub and
 * npm): `<!-- docs-run: skip: why -->` for a block that cannot run (a global install, an output
 * sample, another project's code), `<!-- docs-run: given ftp, host -->` for a fragment that uses
 * names defined earlier in the prose (see GIVENS in docs-snippets.test.ts), `<!-- docs-run: needs jq -->`
 * for a block that calls a program beyond Node and bash (run where it is installed, reported as
 * skipped elsewhere). `given` and `needs` combine, separated by `;`.
 */

export interface CodeBlock {
  /** The file, relative to the repository. */
  readonly file: string;
  /** The line of the opening fence (1-based). */
  readonly line: number;
  /** The first word of the info string, lower-cased ("" when none). */
  readonly lang: string;
  /** The code, without the fences. */
  readonly code: string;
  readonly directive: Directive;
}

export interface Directive {
  /** Why the block does not run, when it does not. */
  readonly skip?: string;
  /** Names the block takes from the prose. */
  readonly given: readonly string[];
  /** Programs the block calls beyond node and bash. */
  readonly needs: readonly string[];
}

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([^`\s]*)(.*)$/;
const DIRECTIVE = /^\s*<!--\s*docs-run:\s*(.*?)\s*-->\s*$/;

/** Reads a directive's text; throws for one that means nothing (a typo must not skip a block). */
export function parseDirective(text: string): Directive {
  const skip = /^skip:\s*(\S.*)$/.exec(text);
  if (skip) return { skip: skip[1]!, given: [], needs: [] };
  const given: string[] = [];
  const needs: string[] = [];
  for (const part of text.split(";").map((p) => p.trim())) {
    const m = /^(given|needs)\s+(\S.*)$/.exec(part);
    if (!m) throw new Error(`unknown docs-run directive "${text}" (skip: <why>, given <names>, needs <programs>)`);
    (m[1] === "given" ? given : needs).push(...m[2]!.split(/\s*,\s*/).filter(Boolean));
  }
  return { given, needs };
}

export function codeBlocks(file: string, text: string): CodeBlock[] {
  const lines = text.split("\n");
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]!);
    if (!open) continue;
    const fence = open[1]!;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length; i++) {
      const close = lines[i]!.trim();
      if (close.startsWith(fence[0]!.repeat(fence.length)) && /^[`~]+$/.test(close)) break;
      body.push(lines[i]!);
    }
    if (i >= lines.length) throw new Error(`${file}:${start + 1}: a code block is never closed`);
    let before = start - 1;
    while (before >= 0 && lines[before]!.trim() === "") before--;
    const marked = before >= 0 ? DIRECTIVE.exec(lines[before]!) : null;
    let directive: Directive = { given: [], needs: [] };
    if (marked) {
      try {
        directive = parseDirective(marked[1]!);
      } catch (error) {
        throw new Error(`${file}:${before + 1}: ${(error as Error).message}`);
      }
    }
    blocks.push({ file, line: start + 1, lang: open[2]!.toLowerCase(), code: body.join("\n"), directive });
  }
  return blocks;
}
