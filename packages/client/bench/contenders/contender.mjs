/**
 * What every Node contender shares: `node <contender>.mjs <scenario> <json config>` runs one
 * scenario once and prints one JSON line: { ns, bytes, items, rssGrowth } (rssGrowth: the
 * process's peak resident memory above what it used just before the timed work, in bytes).
 */
import { Writable } from "node:stream";

export function discard(onBytes) {
  return new Writable({
    write(chunk, _encoding, done) {
      onBytes(chunk.length);
      done();
    },
  });
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
  const rssGrowth = Math.max(0, process.resourceUsage().maxRSS * 1024 - rssBefore);
  await scenario.finish?.(prepared);
  process.stdout.write(`${JSON.stringify({ ns, ...result, rssGrowth })}\n`);
  process.exit(0);
}
