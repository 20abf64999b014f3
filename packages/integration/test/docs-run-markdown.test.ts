/** How docs-snippets.test.ts reads code blocks and their directives out of markdown. */
import { describe, expect, it } from "vitest";
import { codeBlocks, parseDirective } from "./docs-run/markdown.js";

describe("codeBlocks", () => {
  it("finds fenced blocks with their language, line and directive", () => {
    const text = [
      "# Title", //                                   1
      "",
      "```ts", //                                     3
      'const a = "```";',
      "```",
      "<!-- docs-run: skip: an output sample -->", // 6
      "",
      "```",
      "220 ready",
      "```",
      "<!-- docs-run: given ftp, host; needs jq -->",
      "````sh", //                                   12
      "ftplib ls | jq .",
      "```",
      "````",
    ].join("\n");
    const blocks = codeBlocks("x.md", text);
    expect(blocks.map((b) => [b.line, b.lang, b.code])).toEqual([
      [3, "ts", 'const a = "```";'],
      [8, "", "220 ready"],
      [12, "sh", "ftplib ls | jq .\n```"],
    ]);
    expect(blocks.map((b) => b.directive)).toEqual([
      { given: [], needs: [] },
      { skip: "an output sample", given: [], needs: [] },
      { given: ["ftp", "host"], needs: ["jq"] },
    ]);
  });

  it("refuses a directive it does not know, and a block never closed", () => {
    expect(() => parseDirective("skipp: typo")).toThrow(/unknown docs-run directive/);
    expect(() => parseDirective("skip:")).toThrow(/unknown docs-run directive/);
    expect(() => codeBlocks("y.md", "<!-- docs-run: run please -->\n```ts\nx\n```")).toThrow(/^y\.md:1: unknown/);
    expect(() => codeBlocks("z.md", "text\n```ts\nnever closed")).toThrow(/^z\.md:2: a code block is never closed/);
  });
});
