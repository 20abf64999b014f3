/** basic-ftp, the most used Node FTP client, used as its README shows. */
import { statSync } from "node:fs";
import { Client } from "basic-ftp";
import { contender, eachFile, discard } from "./contender.mjs";

async function open(c, secure = false) {
  const client = new Client(0);
  await client.access({
    host: c.host,
    port: c.port,
    user: c.user,
    password: c.password,
    secure,
    secureOptions: { ca: c.ca },
  });
  return client;
}
/** A scenario on one client, logged in (by `connect`) before the clock starts and closed after. */
const session = (run, connect = open) => ({
  prepare: async (c) => ({ ...c, client: await connect(c) }),
  run,
  finish: (c) => c.client.close(),
});

async function retrieve(client, remote) {
  let bytes = 0;
  await client.downloadTo(
    discard((n) => (bytes += n)),
    remote,
  );
  return { bytes };
}

const listing = (commands) =>
  session(
    async (c) => ({ items: (await c.client.list(c.remote)).filter((e) => e.name !== "." && e.name !== "..").length }),
    async (c) => {
      const client = await open(c);
      if (commands !== undefined) client.availableListCommands = commands;
      return client;
    },
  );

await contender({
  download: session((c) => retrieve(c.client, c.remote)),
  "ftps-download": session(
    (c) => retrieve(c.client, c.remote),
    (c) => open(c, true),
  ),
  "download-file": session(async (c) => {
    await c.client.downloadTo(c.local, c.remote);
    return { bytes: statSync(c.local).size };
  }),
  upload: session(async (c) => {
    await c.client.uploadFrom(c.local, c.remote);
    return { bytes: statSync(c.local).size };
  }),
  small: session((c) => eachFile(c.files, (remote) => retrieve(c.client, remote))),
  // basic-ftp has no pool: one client per connection, each taking the next file.
  "small-pool": {
    prepare: async (c) => ({ ...c, clients: await Promise.all(Array.from({ length: c.connections }, () => open(c))) }),
    run: async (c) => {
      let next = 0;
      let bytes = 0;
      await Promise.all(
        c.clients.map(async (client) => {
          while (next < c.files.length) {
            const { bytes: n } = await retrieve(client, c.files[next++]);
            bytes += n;
          }
        }),
      );
      return { bytes, items: c.files.length };
    },
    finish: (c) => c.clients.forEach((client) => client.close()),
  },
  // basic-ftp lists with MLSD when the server announces MLST, as proftpd does.
  mlsd: listing(undefined),
  list: listing(["LIST"]),
});
