/**
 * What the command rule's AsyncLocalStorage costs the process it runs in (see src/call-queue.ts).
 * Once a storage has been entered, Node 20 and 22 run a hook for every promise made anywhere in
 * the process; this times three kinds of work in fresh processes, without and with a storage
 * entered once, and prints the medians and their ratio.
 *
 *   node packages/client/bench/async-context.mjs
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const ROUNDS = Number(process.env.ROUNDS ?? 5);

const WORK = {
  "a loop of 5M awaits": `
    const run = async () => { for (let i = 0; i < 5e6; i++) await null; };
    const t = performance.now(); await run(); return performance.now() - t;`,
  "20k fs.promises.stat calls": `
    const { stat } = await import("node:fs/promises");
    const t = performance.now(); for (let i = 0; i < 20000; i++) await stat(${JSON.stringify(fileURLToPath(import.meta.url))});
    return performance.now() - t;`,
  "200 MB through a stream pipeline": `
    const { Readable, Writable } = await import("node:stream");
    const { pipeline } = await import("node:stream/promises");
    const block = Buffer.alloc(64 * 1024);
    let n = 0;
    const source = Readable.from((function* () { while (n++ < 3200) yield block; })());
    const t = performance.now();
    await pipeline(source, new Writable({ write(_c, _e, done) { done(); } }));
    return performance.now() - t;`,
};

function once(body, entered) {
  const prelude = entered
    ? `const { AsyncLocalStorage } = await import("node:async_hooks"); new AsyncLocalStorage().run(1, () => {});`
    : "";
  const script = `${prelude} const ms = await (async () => { ${body} })(); console.log(ms);`;
  return Number(execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" }));
}

const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`Node ${process.version}, ${ROUNDS} rounds, medians\n`);
console.log("| work | storage never entered | entered once | ratio |");
console.log("|---|---:|---:|---:|");
for (const [name, body] of Object.entries(WORK)) {
  const off = [];
  const on = [];
  for (let r = 0; r < ROUNDS; r++) {
    off.push(once(body, false));
    on.push(once(body, true));
  }
  const [a, b] = [median(off), median(on)];
  console.log(`| ${name} | ${a.toFixed(0)} ms | ${b.toFixed(0)} ms | ${(b / a).toFixed(2)}x |`);
}
