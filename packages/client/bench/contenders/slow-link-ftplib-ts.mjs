/**
 * This client in the slow-link bench (../slow-link.mjs): files to and from disk, as a user would
 * write them. Rows that need an API another change adds (a segmented `pool.download`, MODE Z)
 * report { notBuilt } until it exists.
 */
import { statSync } from "node:fs";
import { FTP, FtpPool } from "../../dist/index.js";
import { contender } from "./contender.mjs";

const open = (c) => FTP.open({ host: c.host, port: c.port, user: c.user, password: c.password });
/** A scenario on one connection, opened before the clock starts and closed after. */
const session = (run) => ({
  prepare: async (c) => ({ ...c, ftp: await open(c) }),
  run,
  finish: (c) => c.ftp.close(),
});
/** A scenario on a pool whose connections are all open before the clock starts. */
const pooled = (run) => ({
  prepare: async (c) => {
    const pool = new FtpPool({ size: c.connections, connect: () => open(c) });
    const opened = [];
    await Promise.all(
      Array.from({ length: c.connections }, () =>
        pool.run(async (ftp) => {
          opened.push(await ftp.pwd());
          // Hold each connection until all are open, so that the pool opens all of them.
          while (opened.length < c.connections) await new Promise((resolve) => setTimeout(resolve, 5));
        }),
      ),
    );
    return { ...c, pool };
  },
  run,
  finish: (c) => c.pool.close(),
});
const bytesOf = (files) => files.reduce((sum, [, local]) => sum + statSync(local).size, 0);

await contender({
  download: session(async (c) => ({ bytes: await c.ftp.download(c.remote, c.local) })),
  segmented: pooled(async (c) => {
    if (typeof FtpPool.prototype.download !== "function") return { notBuilt: "FtpPool.prototype.download" };
    await c.pool.download(c.remote, c.local, { segments: c.connections });
    return { bytes: statSync(c.local).size };
  }),
  "mode-z": session(async (c) => ({ bytes: await c.ftp.download(c.remote, c.local, { modeZ: c.modeZ }) })),
  small: session(async (c) => {
    for (const [remote, local] of c.files) await c.ftp.download(remote, local);
    return { bytes: bytesOf(c.files), items: c.files.length };
  }),
  "small-pool": pooled(async (c) => ({ bytes: await c.pool.downloadMany(c.files), items: c.files.length })),
  upload: session(async (c) => {
    let bytes = 0;
    for (const [remote, local] of c.files) bytes += await c.ftp.upload(local, remote);
    return { bytes, items: c.files.length };
  }),
  "upload-pool": pooled(async (c) => ({
    bytes: await c.pool.uploadMany(c.files.map(([remote, local]) => [local, remote])),
    items: c.files.length,
  })),
  listing: session(async (c) => {
    let items = 0;
    for await (const entry of c.ftp.listStream(c.remote)) if (entry.name) items++;
    return { items };
  }),
  "upload-file": session(async (c) => ({ bytes: await c.ftp.upload(c.local, c.remote) })),
});
