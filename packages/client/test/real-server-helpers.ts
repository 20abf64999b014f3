import { testTls } from "@ftplib/test-servers";

export { ErrorPerm, FTP_TLS, FtpPool, FtpTlsError } from "../src/index.js";

/** A CA that did not sign the Debian servers' certificate (it signs only the embedded server's). */
export const testTlsFor = { otherCa: testTls.ca };
