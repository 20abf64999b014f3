// What the server can do (FEAT), and machine-readable listings: MLSD where the server has it
// (facts straight from the server), LIST parsed otherwise; MDTM for one file's time.
//
//   node examples/features-and-mlsd.mjs [ftp://user:password@host/dir]
import { FTP } from "@ftplib/client";
import { exampleServer } from "./lib/server.mjs";

const server = await exampleServer();
try {
  const ftp = await FTP.open({ host: server.host, port: server.port, user: server.user, password: server.password });
  try {
    const features = await ftp.features();
    console.log(`Features: ${[...features.keys()].sort().join(" ")}`);
    const dir = server.path ?? "pub";
    if (features.has("MLST")) {
      // ftplib's mlsd(): [name, facts] pairs, fact names lower-cased.
      for await (const [name, facts] of ftp.mlsd(dir, ["type", "size", "modify"])) {
        console.log(`MLSD ${name}: type=${facts.type} size=${facts.size ?? "-"} modify=${facts.modify ?? "-"}`);
      }
    } else {
      console.log("No MLSD here: LIST, parsed");
    }
    // list() picks MLSD or LIST by itself; listStream() does the same for listings too big to hold.
    for await (const entry of ftp.listStream(dir)) {
      // While the loop runs the connection is busy: calls on it fail with ERR_FTP_BUSY until it ends.
      console.log(`entry ${entry.name}: ${entry.type}, ${entry.size ?? "?"} bytes`);
    }
    const file = (await ftp.list(dir)).find((e) => e.type === "file");
    if (file !== undefined)
      console.log(`MDTM ${file.name}: ${(await ftp.lastMod(`${dir}/${file.name}`)).toISOString()}`);
  } finally {
    await ftp.quit(); // QUIT; ftp.close() drops the connection without it
  }
} finally {
  await server.close();
}
