/**
 * What every Node contender shares: `node <contender>.mjs <scenario> <json config>` runs one
 * scenario once and prints one JSON line: { ns, bytes, items, rssGrowth } (rssGrowth: the
 * process's peak resident memory above what it used just before the timed work, in bytes).
 */
import { readFileSync } from "node:fs";
import { Writable } from "node:stream";

export function discard(onBytes) {
  return new Writable({
    write(chunk, _encoding, done) {
      onBytes(chunk.length);
      done();
    },
  });
}

/**
 * The process's peak resident memory (VmHWM), in bytes. Not getrusage's maxrss: Linux carries that
 * over from the parent across exec, so a child of a large process would report the parent's size.
 */
function peakRss() {
  const match = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync("/proc/self/status", "utf8"));
  return match === null ? 0 : Number(match[1]) * 1024;
}

export async function contender(scenarios) {
  const [name, json] = process.argv.slice(2);
  const scenario = scenarios[name];
  if (scenario === undefined) throw new Error(`no scenario ${name}`);
  const config = JSON.parse(json);
  const prepared = await (scenario.prepare?.(config) ?? config);
  const rssBefore = process.memoryUsage.rss();
  const started = process.hrtime.bigint();
  const result = await scenario.run(prepared);
  const ns = Number(process.hrtime.bigint() - started);
  const rssGrowth = Math.max(0, peakRss() - rssBefore);
  await scenario.finish?.(prepared);
  process.stdout.write(`${JSON.stringify({ ns, ...result, rssGrowth })}\n`);
  process.exit(0);
}
