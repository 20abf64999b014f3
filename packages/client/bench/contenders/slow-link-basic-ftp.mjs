/** basic-ftp in the slow-link bench (../slow-link.mjs), used as its README shows. */
import { statSync } from "node:fs";
import { Client } from "basic-ftp";
import { contender } from "./contender.mjs";

async function open(c) {
  const client = new Client(0);
  await client.access({ host: c.host, port: c.port, user: c.user, password: c.password, secure: false });
  return client;
}
const session = (run) => ({
  prepare: async (c) => ({ ...c, client: await open(c) }),
  run,
  finish: (c) => c.client.close(),
});
/** basic-ftp has no pool: `connections` clients, each taking the next file. */
const clients = (each) => ({
  prepare: async (c) => ({ ...c, clients: await Promise.all(Array.from({ length: c.connections }, () => open(c))) }),
  run: async (c) => {
    let next = 0;
    let bytes = 0;
    await Promise.all(
      c.clients.map(async (client) => {
        while (next < c.files.length) bytes += await each(client, c.files[next++]);
      }),
    );
    return { bytes, items: c.files.length };
  },
  finish: (c) => c.clients.forEach((client) => client.close()),
});
const download = async (client, [remote, local]) => {
  await client.downloadTo(local, remote);
  return statSync(local).size;
};
const upload = async (client, [remote, local]) => {
  await client.uploadFrom(local, remote);
  return statSync(local).size;
};
const oneByOne = (each) =>
  session(async (c) => {
    let bytes = 0;
    for (const file of c.files) bytes += await each(c.client, file);
    return { bytes, items: c.files.length };
  });

await contender({
  small: oneByOne(download),
  "small-pool": clients(download),
  upload: oneByOne(upload),
  "upload-pool": clients(upload),
  // basic-ftp lists with MLSD when the server announces MLST, as pure-ftpd does.
  listing: session(async (c) => ({
    items: (await c.client.list(c.remote)).filter((e) => e.name !== "." && e.name !== "..").length,
  })),
});
