// Several transfers at once through a pool of connections: uploads and downloads queue for a free
// connection, at most `size` at a time; a connection that breaks while idle is replaced.
//
//   node examples/pool.mjs [ftp://user:password@host/writable/dir]
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FtpPool } from "@ftplib/client";
import { exampleServer } from "./lib/server.mjs";

const server = await exampleServer();
const dir = await mkdtemp(join(tmpdir(), "ftplib-example-"));
// FtpPool.open takes FTP.open's options; `secure: true` (and `tls`) for FTPS connections that
// resume one TLS session.
const pool = FtpPool.open({
  host: server.host,
  port: server.port,
  user: server.user,
  password: server.password,
  size: 4,
});
try {
  const target = `${server.path ?? "."}/ftplib-pool-example`;
  await pool.run((ftp) => ftp.ensureDir(target));
  const names = Array.from({ length: 12 }, (_, i) => `part-${String(i).padStart(2, "0")}.txt`);
  for (const name of names) await writeFile(join(dir, name), `${name}\n`.repeat(1000));

  const started = Date.now();
  const sent = await pool.uploadMany(names.map((name) => [join(dir, name), `${target}/${name}`]));
  console.log(
    `Uploaded ${names.length} files (${sent} bytes) over ${pool.size} connections in ${Date.now() - started} ms`,
  );

  const back = join(dir, "back");
  await mkdir(back);
  const received = await pool.downloadMany(
    names.map((name) => [`${target}/${name}`, join(back, name)]),
    { concurrency: 3 },
  );
  const same = await Promise.all(
    names.map(async (name) => (await readFile(join(back, name), "utf8")) === (await readFile(join(dir, name), "utf8"))),
  );
  console.log(`Downloaded ${received} bytes back; identical: ${same.every(Boolean)}`);

  // Any other work runs on a free connection too.
  console.log(`On the server: ${(await pool.run((ftp) => ftp.nlst(target))).length} files`);
  await pool.run((ftp) => ftp.removeDir(target));
} finally {
  await pool.close();
  await rm(dir, { recursive: true, force: true });
  await server.close();
}
