/** This client: FTP, FTP_TLS and FtpPool from @ftplib/client, used as the README shows. */
import { FTP, FTP_TLS, FtpPool } from "../../dist/index.js";
import { contender, eachFile } from "./contender.mjs";

const open = (c) => FTP.open({ host: c.host, port: c.port, user: c.user, password: c.password });
const openTls = async (c) => {
  const ftp = await FTP_TLS.open({ host: c.host, port: c.port, user: c.user, password: c.password, tls: { ca: c.ca } });
  await ftp.protP();
  return ftp;
};
/** A scenario on one connection, opened (by `connect`) before the clock starts and closed after. */
const session = (run, connect = open) => ({
  prepare: async (c) => ({ ...c, ftp: await connect(c) }),
  run,
  finish: (c) => c.ftp.close(),
});

async function retrieve(ftp, remote) {
  let bytes = 0;
  await ftp.retrBinary(`RETR ${remote}`, (block) => {
    bytes += block.length;
  });
  return { bytes };
}

const listing = (command) =>
  session(async (c) => {
    let items = 0;
    for await (const entry of c.ftp.listStream(c.remote, { command, maxBytes: c.maxBytes })) if (entry.name) items++;
    return { items };
  });

await contender({
  download: session((c) => retrieve(c.ftp, c.remote)),
  "ftps-download": session((c) => retrieve(c.ftp, c.remote), openTls),
  "download-file": session(async (c) => ({ bytes: await c.ftp.download(c.remote, c.local) })),
  upload: session(async (c) => ({ bytes: await c.ftp.upload(c.local, c.remote) })),
  small: session((c) => eachFile(c.files, (remote) => retrieve(c.ftp, remote))),
  "small-pool": {
    prepare: async (c) => {
      const pool = new FtpPool({ size: c.connections, connect: () => open(c) });
      // The connections are opened before the clock starts, as a long-lived pool's would be.
      await Promise.all(Array.from({ length: c.connections }, () => pool.run((ftp) => ftp.pwd())));
      return { ...c, pool };
    },
    run: async (c) => {
      const sizes = await Promise.all(c.files.map((remote) => c.pool.run((ftp) => retrieve(ftp, remote))));
      return { bytes: sizes.reduce((sum, s) => sum + s.bytes, 0), items: c.files.length };
    },
    finish: (c) => c.pool.close(),
  },
  // listStream: parsed entries as they arrive, in memory that does not grow with the listing.
  mlsd: listing("MLSD"),
  list: listing("LIST"),
  // ftp.mlsd(), ftplib's: the whole listing is received before the first entry.
  "mlsd-buffered": session(async (c) => {
    let items = 0;
    for await (const [name, facts] of c.ftp.mlsd(c.remote))
      if (facts.type !== "cdir" && facts.type !== "pdir" && name) items++;
    return { items };
  }),
});
