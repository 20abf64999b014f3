/**
 * A progress bar on one terminal line, redrawn in place, and a summary line when the transfer is
 * complete:
 *
 *   big.iso  [##########..........]  48%  120.0 MiB / 250.0 MiB  210.3 MiB/s  ETA 1s
 *   big.iso: 250.0 MiB in 1.2s (208.3 MiB/s)
 *
 * The line fits the terminal (stderr's columns; $COLUMNS or 80 when that is not a terminal): the
 * name is measured in terminal cells (wide and combining characters counted as the terminal draws
 * them) and shortened from the left, and on a narrow terminal the bar and then the numbers least
 * needed go. The rate is that of the last seconds, not the mean since the start. Drawn only where someone
 * is watching (a terminal, or when asked with --progress), never into a pipe or a log file by
 * default.
 */
import type { Writable } from "node:stream";

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];

/** 1536 -> "1.5 KiB". */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}

/** An estimate to come, rounded up: "4s", "2m05s", "1h07m". */
function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  if (seconds < 60) return `${Math.ceil(seconds)}s`;
  const minutes = Math.floor(seconds / 60);
  return minutes < 60
    ? `${minutes}m${String(Math.round(seconds % 60)).padStart(2, "0")}s`
    : `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, "0")}m`;
}

/** A time taken: "0.42s", "12.3s", "2m05s". */
export function formatDuration(seconds: number): string {
  if (seconds < 10) return `${seconds.toFixed(2)}s`;
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  return formatSeconds(seconds);
}

// --- Display width ---------------------------------------------------------------------------

/** Code points a terminal draws two cells wide (East Asian Wide and Fullwidth), besides emoji. */
const WIDE: readonly (readonly [number, number])[] = [
  [0x1100, 0x115f], // Hangul Jamo, leading consonants
  [0x2e80, 0x303e], // CJK radicals, Kangxi, ideographic description, CJK symbols and punctuation
  [0x3041, 0x33ff], // Hiragana, Katakana, Bopomofo, Hangul compatibility Jamo, Kanbun, CJK compatibility
  [0x3400, 0x4dbf], // CJK extension A
  [0x4e00, 0x9fff], // CJK unified ideographs
  [0xa000, 0xa4cf], // Yi
  [0xa960, 0xa97f], // Hangul Jamo extended A
  [0xac00, 0xd7a3], // Hangul syllables
  [0xf900, 0xfaff], // CJK compatibility ideographs
  [0xfe10, 0xfe19], // vertical forms
  [0xfe30, 0xfe6f], // CJK compatibility forms, small form variants
  [0xff00, 0xff60], // fullwidth forms
  [0xffe0, 0xffe6], // fullwidth signs
  [0x16fe0, 0x16fe4], // ideographic symbols
  [0x17000, 0x18cff], // Tangut, Khitan
  [0x1b000, 0x1b2ff], // Kana supplement and extensions, Nushu
  [0x1f200, 0x1f265], // enclosed ideographic supplement
  [0x20000, 0x2fffd], // CJK extensions B to F
  [0x30000, 0x3fffd], // CJK extension G and after
];

const ZERO_WIDTH = /^[\p{Mn}\p{Me}\p{Cf}]$/u;
const EMOJI = /^\p{Emoji_Presentation}$/u;

/** Cells one code point takes on a terminal: 0 (combining, format), 2 (wide) or 1. */
export function codePointWidth(codePoint: number): number {
  const char = String.fromCodePoint(codePoint);
  // The soft hyphen is drawn; Hangul vowels and final consonants join the syllable before them.
  if (codePoint !== 0xad && ZERO_WIDTH.test(char)) return 0;
  if ((codePoint >= 0x1160 && codePoint <= 0x11ff) || (codePoint >= 0xd7b0 && codePoint <= 0xd7ff)) return 0;
  if (codePoint < 0x1100) return 1;
  for (const [low, high] of WIDE) if (codePoint >= low && codePoint <= high) return 2;
  return EMOJI.test(char) ? 2 : 1;
}

/** Cells `text` takes on a terminal (text without control characters: see `printable`). */
export function displayWidth(text: string): number {
  let width = 0;
  for (const char of text) width += codePointWidth(char.codePointAt(0)!);
  return width;
}

/**
 * `text` fitted into `max` cells: as it is when it fits, else its end after "..." (the end of a
 * file name says most), never cutting a character from the marks that combine with it.
 */
export function fitWidth(text: string, max: number): string {
  if (displayWidth(text) <= max) return text;
  if (max <= 3) return ".".repeat(Math.max(max, 0));
  const chars = [...text];
  let width = 0;
  let start = chars.length;
  while (start > 0) {
    const w = codePointWidth(chars[start - 1]!.codePointAt(0)!);
    if (width + w > max - 3) break;
    width += w;
    start--;
  }
  // Marks left without the character they belong to are dropped.
  while (start < chars.length && codePointWidth(chars[start]!.codePointAt(0)!) === 0) start++;
  return `...${chars.slice(start).join("")}`;
}

/**
 * A name safe to draw: control characters (a remote name may hold escape sequences) and the
 * bidirectional overrides become "?".
 */
export function printable(text: string): string {
  return text.replace(/[\p{Cc}\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu, "?");
}

// --- Rate ------------------------------------------------------------------------------------

/**
 * The rate over the last `windowMs` (5 s by default): the bytes between the oldest sample in the
 * window (or the last one before it) and the newest, over the time between them. A transfer
 * that stalls falls to 0 once its samples are older than the window.
 */
export class RateWindow {
  private samples: { at: number; bytes: number }[] = [];

  constructor(private readonly windowMs = 5000) {}

  /** `bytes` done at `at` (milliseconds, any fixed origin). */
  add(at: number, bytes: number): void {
    const last = this.samples.at(-1);
    if (last !== undefined && at <= last.at) {
      last.bytes = bytes;
      return;
    }
    this.samples.push({ at, bytes });
    // Keep one sample at or before the window's start, so that the window is covered whole.
    const start = at - this.windowMs;
    while (this.samples.length > 2 && this.samples[1]!.at <= start) this.samples.shift();
  }

  /** Bytes per second over the window up to `now` (the newest sample's time by default); null before two samples. */
  rate(now?: number): number | null {
    const newest = this.samples.at(-1);
    if (newest === undefined || this.samples.length < 2) return null;
    const end = Math.max(now ?? newest.at, newest.at);
    const start = end - this.windowMs;
    // The first sample inside the window, or the last one before it.
    let from = this.samples[0]!;
    for (const sample of this.samples) {
      if (sample.at > start) break;
      from = sample;
    }
    const span = (end - from.at) / 1000;
    return span > 0 ? (newest.bytes - from.bytes) / span : null;
  }
}

// --- The bar ---------------------------------------------------------------------------------

const SEP = "  ";
const MAX_BAR = 30;

/** One line of the bar, `columns` wide at most (less one: writing into the last column wraps on some terminals). */
export function progressLine(
  label: string,
  state: { bytes: number; total: number | null; rate: number | null },
  columns: number,
): string {
  const width = Math.max(columns - 1, 1);
  const { bytes, total, rate } = state;
  const known = total !== null && total > 0;
  const speed = rate === null ? "--/s" : `${formatBytes(rate)}/s`;
  // Fixed widths, so that the line does not jump as the numbers grow.
  const parts: string[][] = known
    ? (() => {
        const percent = `${String(Math.min(100, Math.floor((100 * bytes) / total))).padStart(3)}%`;
        const sizes = `${formatBytes(bytes).padStart(9)} / ${formatBytes(total)}`;
        const left = total - bytes;
        const eta = `ETA ${(left <= 0 ? "0s" : rate === null || rate <= 0 ? "?" : formatSeconds(left / rate)).padEnd(5)}`;
        return [
          [percent, sizes, speed.padStart(12), eta],
          [percent, sizes, speed.padStart(12)],
          [percent, speed.padStart(12), eta],
          [percent, eta],
          [percent],
        ];
      })()
    : [[formatBytes(bytes).padStart(10), speed.padStart(12)], [formatBytes(bytes)]];
  const name = printable(label);
  const nameWidth = displayWidth(name);
  const nameMin = Math.min(nameWidth, 12);
  // The most numbers that leave room for some of the name.
  const numbers =
    parts.map((p) => p.join(SEP)).find((n) => n.length + (nameMin > 0 ? nameMin + SEP.length : 0) <= width) ??
    parts.at(-1)!.join(SEP);
  const room = width - numbers.length;
  // The bar takes what the whole name leaves (30 cells at most), or else 10 cells where the name
  // keeps 20 of its own; none under 5.
  let inner = 0;
  if (known) {
    const withName = room - nameWidth - 2 * SEP.length - 2;
    inner =
      withName >= 5 ? Math.min(MAX_BAR, withName) : Math.min(10, room - Math.min(nameWidth, 20) - 2 * SEP.length - 2);
    if (inner < 5) inner = 0;
  }
  const filled = inner > 0 ? Math.min(inner, Math.round((inner * bytes) / total!)) : 0;
  const bar = inner > 0 ? `[${"#".repeat(filled)}${".".repeat(inner - filled)}]` : "";
  const nameRoom = room - (bar === "" ? 0 : bar.length + SEP.length) - SEP.length;
  const shown = nameRoom > 0 ? fitWidth(name, nameRoom) : "";
  const line = [shown, bar, numbers].filter(Boolean).join(SEP).trimEnd();
  // Numbers alone wider than a very narrow terminal: cut, rather than wrap.
  return displayWidth(line) > width ? line.slice(0, width) : line;
}

/** The terminal's width: the stream's own when it is one, else $COLUMNS, else 80. */
export function terminalColumns(out: { columns?: number }): number {
  if (out.columns !== undefined && out.columns > 0) return out.columns;
  const columns = Number(process.env.COLUMNS);
  return Number.isInteger(columns) && columns > 0 ? columns : 80;
}

export class ProgressBar {
  private drawn = false;
  private readonly started = Date.now();
  private readonly rates = new RateWindow();
  private bytes = 0;
  private total: number | null = null;
  private resumed = 0;
  private seen = false;
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly out: Writable & { columns?: number },
    private readonly label: string,
  ) {}

  /**
   * Redraws the line with `bytes` of `total` (null: unknown) done, `resumed` of them there before
   * the transfer started (a resumed file counts from its part already there).
   */
  update(bytes: number, total: number | null, resumed = 0): void {
    const now = Date.now();
    if (!this.seen) {
      // The rate counts from the start, and from what was there already.
      this.rates.add(this.started, resumed);
      this.seen = true;
    }
    this.bytes = bytes;
    this.total = total;
    this.resumed = resumed;
    this.rates.add(now, bytes);
    this.draw(now);
    // A stalled transfer reports nothing: the line is redrawn each second all the same, so
    // that its rate falls and its ETA grows.
    this.timer ??= setInterval(() => {
      const at = Date.now();
      this.rates.add(at, this.bytes);
      this.draw(at);
    }, 1000).unref();
  }

  private draw(now: number): void {
    const rate = this.rates.rate(now);
    const line = progressLine(this.label, { bytes: this.bytes, total: this.total, rate }, terminalColumns(this.out));
    this.out.write(`\r${line}\x1b[K`);
    this.drawn = true;
  }

  /** The summary line: the bytes moved, the time taken and the mean rate. */
  summary(now = Date.now()): string {
    const seconds = Math.max((now - this.started) / 1000, 0.001);
    const moved = this.bytes - this.resumed;
    const resumed = this.resumed > 0 ? `, after ${formatBytes(this.resumed)} already there` : "";
    const facts = `: ${formatBytes(moved)} in ${formatDuration(seconds)} (${formatBytes(moved / seconds)}/s)${resumed}`;
    // The name gives way first, as on the bar: the line fits the terminal where it can.
    const room = terminalColumns(this.out) - 1 - displayWidth(facts);
    return `${fitWidth(printable(this.label), Math.max(room, 8))}${facts}`;
  }

  /**
   * Ends the line (the bar stays, complete, above whatever comes next) and, when the transfer is
   * complete, writes the summary line. `complete` by default: every byte of a known total is there.
   */
  done(complete = this.total !== null && this.bytes >= this.total): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    if (this.drawn) {
      this.draw(Date.now());
      this.out.write("\n");
      if (complete) this.out.write(`${this.summary()}\n`);
    }
    this.drawn = false;
  }
}
