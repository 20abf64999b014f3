/**
 * What every Node contender shares: `node <contender>.mjs <scenario> <json config>` runs one
 * scenario once and prints one JSON line: { ns, bytes, items, rssGrowth, cpuNs, machineCores }
 * (rssGrowth: the process's peak resident memory above what it used just before the timed work,
 * in bytes; cpuNs: the CPU time the process spent on the work, all its threads; machineCores: how
 * many of the machine's cores were busy meanwhile, on average, servers and all).
 */
import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import { Writable } from "node:stream";

export function discard(onBytes) {
  return new Writable({
    write(chunk, _encoding, done) {
      onBytes(chunk.length);
      done();
    },
  });
}

/** Retrieves `files` one after the other: { bytes, items }, as the small-file scenarios report. */
export async function eachFile(files, retrieve) {
  let bytes = 0;
  for (const remote of files) bytes += (await retrieve(remote)).bytes;
  return { bytes, items: files.length };
}

/**
 * The process's peak resident memory (VmHWM), in bytes. Not getrusage's maxrss: Linux carries that
 * over from the parent across exec, so a child of a large process would report the parent's size.
 */
function peakRss() {
  const match = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync("/proc/self/status", "utf8"));
  return match === null ? 0 : Number(match[1]) * 1024;
}

/** Busy and total jiffies of the whole machine, from /proc/stat. */
function machineTicks() {
  const fields = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = fields[3] + fields[4]; // idle, iowait
  const total = fields.slice(0, 8).reduce((sum, n) => sum + n, 0); // up to steal; guest time is counted in user
  return { busy: total - idle, total };
}

export async function contender(scenarios) {
  const [name, json] = process.argv.slice(2);
  const scenario = scenarios[name];
  if (scenario === undefined) throw new Error(`no scenario ${name}`);
  const config = JSON.parse(json);
  const prepared = await (scenario.prepare?.(config) ?? config);
  const rssBefore = process.memoryUsage.rss();
  const ticksBefore = machineTicks();
  const cpuBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  const result = await scenario.run(prepared);
  const ns = Number(process.hrtime.bigint() - started);
  const cpu = process.cpuUsage(cpuBefore);
  const ticks = machineTicks();
  const rssGrowth = Math.max(0, peakRss() - rssBefore);
  const cpuNs = (cpu.user + cpu.system) * 1000;
  const machineCores = ((ticks.busy - ticksBefore.busy) / (ticks.total - ticksBefore.total)) * cpus().length;
  await scenario.finish?.(prepared);
  process.stdout.write(`${JSON.stringify({ ns, ...result, rssGrowth, cpuNs, machineCores })}\n`);
  process.exit(0);
}
