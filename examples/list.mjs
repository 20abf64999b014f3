// Log in and list a directory: names, types, sizes and times, parsed from MLSD where the server
// offers it and from LIST otherwise.
//
//   node examples/list.mjs [ftp://user:password@host/dir]
import { FTP } from "@ftplib/client";
import { exampleServer } from "./lib/server.mjs";

const server = await exampleServer();
try {
  const ftp = await FTP.open({ host: server.host, port: server.port, user: server.user, password: server.password });
  try {
    console.log(`Connected: ${ftp.getWelcome()}`);
    console.log(`Working directory: ${await ftp.pwd()}`);
    const dir = server.path ?? "pub";
    for (const entry of await ftp.list(dir)) {
      const size = entry.type === "dir" ? "<dir>" : `${entry.size ?? "?"} B`;
      console.log(
        `${entry.type.padEnd(5)} ${size.padStart(12)}  ${entry.modifiedAt?.toISOString() ?? "(no time)"}  ${entry.name}`,
      );
    }
    // ftplib's own calls are all here too: NLST names, and LIST lines as the server wrote them.
    console.log(`NLST: ${(await ftp.nlst(dir)).join(", ")}`);
  } finally {
    await ftp.quit(); // QUIT; ftp.close() drops the connection without it
  }
} finally {
  await server.close();
}
