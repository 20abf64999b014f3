/**
 * The client suite against the embedded server (ftp-srv), in passive and active mode, over IPv4
 * and IPv6.
 */
import { type EmbeddedServer, startEmbeddedServer } from "@ftplib/test-servers";
import { afterAll, beforeAll, describe } from "vitest";
import { defineClientSuite } from "./client-suite.js";

for (const host of ["127.0.0.1", "::1"]) {
  describe(`embedded server on ${host}`, () => {
    const server = { current: undefined as EmbeddedServer | undefined };
    beforeAll(async () => {
      server.current = await startEmbeddedServer(host);
    });
    afterAll(() => server.current?.close());
    for (const passive of [true, false]) {
      defineClientSuite({
        server: "ftp-srv",
        family: host.includes(":") ? "IPv6" : "IPv4",
        passive,
        get host() {
          return server.current!.host;
        },
        get port() {
          return server.current!.port;
        },
        get root() {
          return server.current!.root;
        },
        get user() {
          return server.current!.user;
        },
        get password() {
          return server.current!.password;
        },
        quirks: { restStorTruncates: true, passiveAbortHangs: true, abortRepliesOutOfOrder: true },
      });
    }
  });
}
