/**
 * The client suite against the embedded server (ftp-srv), in passive and active mode, over IPv4
 * and IPv6.
 */
import { startEmbeddedServer } from "@ftplib/test-servers";
import { describe } from "vitest";
import { defineEmbeddedSuites } from "./client-suite.js";
import { FTP_SRV_QUIRKS } from "./ftp-srv-quirks.js";

for (const host of ["127.0.0.1", "::1"]) {
  describe(`embedded server on ${host}`, () => {
    defineEmbeddedSuites(host, () => startEmbeddedServer(host), { server: "ftp-srv", quirks: FTP_SRV_QUIRKS });
  });
}
