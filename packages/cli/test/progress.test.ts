/** The progress bar's parts: display width, fitting a name, the rate window, and the line's layout. */
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import {
  ProgressBar,
  RateWindow,
  codePointWidth,
  displayWidth,
  fitWidth,
  printable,
  progressLine,
} from "../src/progress.js";

describe("displayWidth", () => {
  it("counts ASCII and Latin one cell a character", () => {
    expect(displayWidth("big.iso")).toBe(7);
    expect(displayWidth("café")).toBe(4);
    expect(displayWidth("")).toBe(0);
  });

  it("counts wide characters two cells: CJK, Hangul, fullwidth forms, emoji", () => {
    expect(displayWidth("日本語.txt")).toBe(10);
    expect(displayWidth("한국어")).toBe(6);
    expect(displayWidth("ＡＢＣ")).toBe(6);
    expect(displayWidth("かな")).toBe(4);
    expect(displayWidth("📦")).toBe(2);
    expect(displayWidth("𠀋")).toBe(2); // outside the BMP
    expect(codePointWidth(0x3000)).toBe(2); // ideographic space
  });

  it("counts combining marks and format characters as nothing", () => {
    expect(displayWidth("cafe\u0301")).toBe(4); // e + combining acute
    expect(displayWidth("a\u200bb")).toBe(2); // zero-width space
    expect(displayWidth("\u1100\u1161\u11a8")).toBe(2); // a Hangul syllable from its Jamo
    expect(displayWidth("✔\ufe0f")).toBe(1); // a variation selector adds nothing
  });
});

describe("fitWidth", () => {
  it("keeps what fits, else the end after ...", () => {
    expect(fitWidth("short.txt", 20)).toBe("short.txt");
    expect(fitWidth("a-very-long-file-name.tar.gz", 12)).toBe("...me.tar.gz");
    expect(displayWidth(fitWidth("a-very-long-file-name.tar.gz", 12))).toBe(12);
  });

  it("measures wide characters, never over the width", () => {
    const name = "日本語のとても長いファイル名.zip";
    for (let max = 0; max <= 40; max++) expect(displayWidth(fitWidth(name, max))).toBeLessThanOrEqual(max);
    // Seven cells after "...": three wide characters do not fit in 7 with ".zip" (4), one does.
    expect(fitWidth(name, 10)).toBe("...名.zip");
  });

  it("drops combining marks cut from their character", () => {
    const name = `x${"e\u0301".repeat(10)}`;
    const fitted = fitWidth(name, 8);
    expect(displayWidth(fitted)).toBe(8);
    expect(fitted.startsWith("...e")).toBe(true);
  });
});

describe("printable", () => {
  it("replaces control characters and bidirectional overrides", () => {
    expect(printable("evil\x1b[2Jname\r\n")).toBe("evil?[2Jname??");
    expect(printable("a\u202eb")).toBe("a?b");
    expect(printable("日本語")).toBe("日本語");
  });
});

describe("RateWindow", () => {
  it("is the rate of the last seconds, not the mean since the start", () => {
    const window = new RateWindow(5000);
    window.add(0, 0);
    // 10 s at 1 MB/s, then 5 s at 100 kB/s.
    for (let t = 1000; t <= 10_000; t += 1000) window.add(t, t * 1000);
    expect(window.rate()).toBe(1_000_000);
    for (let t = 11_000; t <= 15_000; t += 1000) window.add(t, 10_000_000 + (t - 10_000) * 100);
    expect(window.rate()).toBe(100_000);
    // The mean since the start would say 700 kB/s.
    expect(10_500_000 / 15).toBe(700_000);
  });

  it("covers the window whole when samples are uneven, and falls to 0 in a stall", () => {
    const window = new RateWindow(5000);
    window.add(0, 0);
    window.add(3000, 3000);
    window.add(7000, 7000);
    // From the last sample at or before 2000 (t=0): 7000 bytes over 7 s.
    expect(window.rate()).toBe(1000);
    expect(window.rate(10_000)).toBe(4000 / 7); // from t=3000, nothing new since 7000
    window.add(13_000, 7000);
    expect(window.rate()).toBe(0);
  });

  it("has no rate before two samples, and merges samples at one time", () => {
    const window = new RateWindow();
    expect(window.rate()).toBeNull();
    window.add(100, 0);
    expect(window.rate()).toBeNull();
    window.add(100, 50);
    expect(window.rate()).toBeNull();
    window.add(600, 550);
    expect(window.rate()).toBe(1000);
  });
});

describe("progressLine", () => {
  const names = ["big.iso", "日本語のファイル名がとても長い場合のテスト.iso", `cafe\u0301-${"x".repeat(80)}.bin`, ""];
  const states = [
    { bytes: 0, total: 250 * 1024 * 1024, rate: null },
    { bytes: 120 * 1024 * 1024, total: 250 * 1024 * 1024, rate: 210 * 1024 * 1024 },
    { bytes: 250 * 1024 * 1024, total: 250 * 1024 * 1024, rate: 5 },
    { bytes: 12_345_678, total: null, rate: 1000 },
  ];

  it("never takes the last column, at any width", () => {
    for (const name of names)
      for (const state of states)
        for (let columns = 10; columns <= 200; columns++) {
          const line = progressLine(name, state, columns);
          expect(displayWidth(line), `${columns} ${name}`).toBeLessThanOrEqual(columns - 1);
        }
  });

  it("shows everything on a wide terminal, and what matters on a narrow one", () => {
    const state = states[1]!;
    const wide = progressLine("big.iso", state, 120);
    expect(wide).toBe(
      `big.iso  [${"#".repeat(14)}${".".repeat(16)}]   48%  120.0 MiB / 250.0 MiB   210.0 MiB/s  ETA 1s`,
    );
    // 50 columns: no room for the sizes beside the rate and the ETA.
    expect(progressLine("big.iso", state, 50)).toBe("big.iso  [###....]   48%   210.0 MiB/s  ETA 1s");
    expect(progressLine("big.iso", state, 20)).toBe("big.iso   48%");
  });

  it("shortens a wide name by its cells", () => {
    const line = progressLine(names[1]!, states[1]!, 80);
    expect(line.startsWith("...")).toBe(true);
    expect(displayWidth(line)).toBeLessThanOrEqual(79);
    expect(line).toContain(".iso");
  });
});

describe("ProgressBar", () => {
  function capture(columns?: number) {
    const chunks: string[] = [];
    const out = Object.assign(
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          chunks.push(chunk.toString());
          done();
        },
      }),
      { columns },
    );
    return { out, text: () => chunks.join("") };
  }

  it("ends with a summary line when complete, none after a failure", () => {
    const ok = capture(60);
    const bar = new ProgressBar(ok.out, "file.bin");
    bar.update(1024, 2048);
    bar.update(2048, 2048);
    bar.done(true);
    const lines = ok.text().split("\n");
    expect(lines.at(-1)).toBe("");
    expect(lines.at(-2)).toMatch(/^file\.bin: 2\.0 KiB in \d+\.\d\ds \([\d.]+ (B|KiB|MiB)\/s\)$/);
    expect(lines.at(-3)).toContain("100%");

    const failed = capture(60);
    const broken = new ProgressBar(failed.out, "file.bin");
    broken.update(1024, 2048);
    broken.done(false);
    expect(failed.text()).not.toContain("file.bin:");
  });

  it("fits the summary line into a narrow terminal, the name giving way", () => {
    const narrow = capture(50);
    const bar = new ProgressBar(narrow.out, "progress-demo-debian-12-netinst.iso");
    bar.update(64 << 20, 64 << 20);
    bar.done(true);
    const summary = narrow.text().split("\n").at(-2)!;
    expect(summary).toMatch(/^\.\.\.[\w.-]+iso: 64\.0 MiB in /);
    expect(displayWidth(summary)).toBeLessThan(50);
  });

  it("counts a resumed file from its part already there", () => {
    const out = capture(100);
    const bar = new ProgressBar(out.out, "r.bin");
    bar.update(1500, 2000, 1000);
    bar.update(2000, 2000, 1000);
    bar.done();
    expect(out.text()).toContain(" 75%");
    expect(out.text()).toMatch(/\nr\.bin: 1000 B in \d+\.\d\ds \(.*\/s\), after 1000 B already there\n$/);
  });
});
