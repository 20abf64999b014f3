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
  return minutes < 60 ? `${minutes}m${String(Math.round(seconds % 60)).padStart(2, "0")}s` : `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, "0")}m`;
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
    const numbers =
      total !== null && total > 0
        ? `${String(Math.floor((100 * bytes) / total)).padStart(3)}%  ${formatBytes(bytes)} / ${formatBytes(total)}  ${formatBytes(rate)}/s  ETA ${formatSeconds((total - bytes) / Math.max(rate, 1))}`
        : `${formatBytes(bytes)}  ${formatBytes(rate)}/s`;
    const barWidth = 20;
    const filled = total !== null && total > 0 ? Math.min(barWidth, Math.round((barWidth * bytes) / total)) : 0;
    const bar = total !== null && total > 0 ? `[${"#".repeat(filled)}${".".repeat(barWidth - filled)}]` : "";
    const room = Math.max(width - numbers.length - bar.length - 6, 8);
    const label = this.label.length > room ? `...${this.label.slice(-(room - 3))}` : this.label;
    this.out.write(`\r${[label, bar, numbers].filter(Boolean).join("  ")}\x1b[K`);
    this.drawn = true;
  }

  /** Ends the line (the bar stays, complete, above whatever comes next). */
  done(): void {
    if (this.drawn) this.out.write("\n");
    this.drawn = false;
  }
}
