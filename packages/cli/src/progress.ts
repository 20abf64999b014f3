/**
 * A progress bar on one terminal line, redrawn in place:
 *
 *   big.iso  [##########..........]  48%  120.0 MiB / 250.0 MiB  210.3 MiB/s  ETA 1s
 *
 * Drawn only where someone is watching (a terminal, or when asked with --progress), never into a
 * pipe or a log file by default.
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

function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  if (seconds < 60) return `${Math.ceil(seconds)}s`;
  const minutes = Math.floor(seconds / 60);
  return minutes < 60
    ? `${minutes}m${String(Math.round(seconds % 60)).padStart(2, "0")}s`
    : `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, "0")}m`;
}

export class ProgressBar {
  private drawn = false;
  private readonly started = Date.now();

  constructor(
    private readonly out: Writable & { columns?: number },
    private readonly label: string,
  ) {}

  /** Redraws the line with `bytes` of `total` (null: unknown) done. */
  update(bytes: number, total: number | null): void {
    const seconds = Math.max((Date.now() - this.started) / 1000, 0.001);
    const rate = bytes / seconds;
    const width = Math.max(this.out.columns ?? 80, 40);
    // Fixed widths, so that the bar does not jump as the numbers grow.
    const numbers =
      total !== null && total > 0
        ? `${String(Math.floor((100 * bytes) / total)).padStart(3)}%  ${formatBytes(bytes).padStart(8)} / ${formatBytes(total)}  ${`${formatBytes(rate)}/s`.padStart(12)}  ETA ${formatSeconds((total - bytes) / Math.max(rate, 1)).padEnd(4)}`
        : `${formatBytes(bytes).padStart(10)}  ${`${formatBytes(rate)}/s`.padStart(12)}`;
    // The numbers first, then the name (shortened from the left if it must be), the bar in what is left.
    const known = total !== null && total > 0;
    const maxLabel = Math.max(width - numbers.length - (known ? 13 : 4), 20);
    const label = this.label.length > maxLabel ? `...${this.label.slice(-(maxLabel - 3))}` : this.label;
    const barWidth = Math.min(30, width - numbers.length - label.length - 8);
    const filled = known && barWidth > 0 ? Math.min(barWidth, Math.round((barWidth * bytes) / total)) : 0;
    const bar = known && barWidth >= 5 ? `[${"#".repeat(filled)}${".".repeat(barWidth - filled)}]` : "";
    this.out.write(`\r${[label, bar, numbers].filter(Boolean).join("  ")}\x1b[K`);
    this.drawn = true;
  }

  /** Ends the line (the bar stays, complete, above whatever comes next). */
  done(): void {
    if (this.drawn) this.out.write("\n");
    this.drawn = false;
  }
}
