/**
 * A small benchmark harness: contenders run alternately, round after round, after a warm-up;
 * each reports its median throughput and its ratio to the others. Ratios measured in one run are
 * what count: absolute numbers on a shared machine are noise.
 */

/** Runs `fn` until `minMs` have passed and returns the nanoseconds per call. */
function time(fn, minMs) {
  let calls = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0n;
  const limit = BigInt(minMs) * 1_000_000n;
  do {
    fn();
    calls++;
    elapsed = process.hrtime.bigint() - start;
  } while (elapsed < limit);
  return Number(elapsed) / calls;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * @param {string} title
 * @param {number} bytes bytes processed by one call
 * @param {Record<string, () => unknown>} contenders
 */
export function compare(title, bytes, contenders, { rounds = 7, warmup = 2, minMs = 300 } = {}) {
  const names = Object.keys(contenders);
  const samples = Object.fromEntries(names.map((n) => [n, []]));
  for (let round = 0; round < warmup + rounds; round++) {
    // Alternate the order so that no contender always runs first.
    const order = round % 2 ? [...names].reverse() : names;
    for (const name of order) {
      const ns = time(contenders[name], minMs);
      if (round >= warmup) samples[name].push((bytes / ns) * 1e3); // MB/s (1e6 bytes)
    }
  }
  const rows = names.map((name) => ({ name, mbps: median(samples[name]), samples: samples[name] }));
  return { title, bytes, rows };
}

export function table(result) {
  const [first, ...others] = result.rows;
  const lines = [
    `### ${result.title}`,
    "",
    `| contender | median MB/s | runs | ${others.map((o) => `vs ${o.name}`).join(" | ")} |`,
    `|---|---:|---:|${others.map(() => "---:").join("|")}|`,
  ];
  for (const row of result.rows) {
    const ratios = others.map((o) => (row === o ? "1.00x" : `${(row.mbps / o.mbps).toFixed(2)}x`));
    lines.push(`| ${row.name} | ${row.mbps.toFixed(1)} | ${row.samples.length} | ${ratios.join(" | ")} |`);
  }
  void first;
  return lines.join("\n");
}
