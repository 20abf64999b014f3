#!/usr/bin/env node
// The slow link by hand: node tooling/slow-link/bin.js <server-host:port> [--port N] [--delay ms] [--rate bytes/s]
// listens on 127.0.0.1 (port N, default any) until Ctrl-C, then prints what each control connection cost.
import { parseArgs } from "node:util";
import { SlowLink } from "./index.js";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { port: { type: "string" }, delay: { type: "string" }, rate: { type: "string" } },
});
const target = /^(.+):(\d+)$/.exec(positionals[0] ?? "");
if (target === null) {
  console.error("usage: bin.js <server-host:port> [--port N] [--delay ms] [--rate bytes/s]");
  process.exit(1);
}
const link = await SlowLink.start({
  target: { host: target[1].replace(/^\[|\]$/g, ""), port: Number(target[2]) },
  port: Number(values.port ?? 0),
  delayMs: Number(values.delay ?? 10),
  rate: values.rate === undefined ? undefined : Number(values.rate),
});
console.error(`slow link on ${link.host}:${link.port} to ${positionals[0]}, ${link.delayMs} ms each way`);
process.once("SIGINT", () => {
  console.log(JSON.stringify(link.stats(), null, 2));
  void link.close().then(() => process.exit(0));
});
