/** basic-ftp, the most used Node FTP client, used as its README shows. */
import { statSync } from "node:fs";
import { Client } from "basic-ftp";
import { contender, discard } from "./contender.mjs";

async function open(c, secure = false) {
  const client = new Client(0);
  await client.access({ host: c.host, port: c.port, user: c.user, password: c.password, secure, secureOptions: { ca: c.ca } });
  return client;
}
const close = (c) => c.client.close();

async function retrieve(client, remote) {
  let bytes = 0;
  await client.downloadTo(discard((n) => (bytes += n)), remote);
  return { bytes };
}

const listing = (commands) => ({
  prepare: async (c) => {
    const client = await open(c);
    if (commands !== undefined) client.availableListCommands = commands;
    return { ...c, client };
  },
  run: async (c) => ({ items: (await c.client.list(c.remote)).filter((e) => e.name !== "." && e.name !== "..").length }),
  finish: close,
});

await contender({
  download: { prepare: async (c) => ({ ...c, client: await open(c) }), run: (c) => retrieve(c.client, c.remote), finish: close },
  "ftps-download": { prepare: async (c) => ({ ...c, client: await open(c, true) }), run: (c) => retrieve(c.client, c.remote), finish: close },
  "download-file": {
    prepare: async (c) => ({ ...c, client: await open(c) }),
    run: async (c) => {
      await c.client.downloadTo(c.local, c.remote);
      return { bytes: statSync(c.local).size };
    },
    finish: close,
  },
  upload: {
    prepare: async (c) => ({ ...c, client: await open(c) }),
    run: async (c) => {
      await c.client.uploadFrom(c.local, c.remote);
      return { bytes: statSync(c.local).size };
    },
    finish: close,
  },
  small: {
    prepare: async (c) => ({ ...c, client: await open(c) }),
    run: async (c) => {
      let bytes = 0;
      for (const remote of c.files) {
        const { bytes: n } = await retrieve(c.client, remote);
        bytes += n;
      }
      return { bytes, items: c.files.length };
    },
    finish: close,
  },
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
