// FTPS: explicit TLS (AUTH TLS before the password is sent), data connections protected too
// (PROT P), the certificate checked against a private certificate authority.
//
//   node examples/ftps.mjs [ftpes://user:password@host/ | ftps://user:password@host/]   (FTPLIB_CA=ca.pem)
import { FTP_TLS, FtpTlsError } from "@ftplib/client";
import { exampleServer } from "./lib/server.mjs";

const server = await exampleServer({ tls: true });
try {
  const options = { host: server.host, port: server.port, user: server.user, password: server.password };
  // Without the CA the certificate is not trusted, and nothing is sent in the clear.
  if (server.ca !== undefined) {
    try {
      await FTP_TLS.open({ ...options, implicit: server.tls === "implicit" });
      console.log("Connected without the CA?");
    } catch (error) {
      if (!FtpTlsError.isInstance(error)) throw error;
      console.log(`Without the CA: FtpTlsError (${error.cause?.code ?? error.message})`);
    }
  }
  const ftps = await FTP_TLS.open({
    ...options,
    implicit: server.tls === "implicit",
    tls: server.ca ? { ca: server.ca } : {},
  });
  try {
    // Explicit FTPS needs PROT P for the data connections, as in ftplib; implicit FTPS sent it at login.
    if (!ftps.dataProtected) await ftps.protP();
    console.log(`Secure control connection: ${ftps.secure}, data protected: ${ftps.dataProtected}`);
    await ftps.storBinary("STOR ftps-example.txt", new TextEncoder().encode("sent over TLS\n"));
    const chunks = [];
    await ftps.retrBinary("RETR ftps-example.txt", (block) => chunks.push(Buffer.from(block)));
    console.log(`Read back: ${JSON.stringify(Buffer.concat(chunks).toString())}`);
    await ftps.delete("ftps-example.txt");
  } finally {
    await ftps.quit(); // QUIT; ftp.close() drops the connection without it
  }
} finally {
  await server.close();
}
