/**
 * What the hostile-server test files share: a scratch directory for the file, and the servers and
 * clients each test starts, closed after it (even when it fails).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type HostileServer, type HostileServerOptions, type Scenario, startHostileServer } from "@ftplib/testing";
import { afterAll, afterEach, beforeAll } from "vitest";

export interface HostileFixture {
  /** The file's scratch directory (set once its tests start). */
  readonly tmp: string;
  /** A hostile server, closed after the test. */
  server(scenario: Scenario, options?: HostileServerOptions): Promise<HostileServer>;
  /** Closes `client` after the test. */
  track<T extends { close(): void }>(client: T): T;
}

export function hostileFixture(name: string): HostileFixture {
  let tmp = "";
  const servers: HostileServer[] = [];
  const clients: { close(): void }[] = [];
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), `ftplib-${name}-`));
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    for (const server of servers.splice(0)) await server.close();
  });
  afterAll(() => rm(tmp, { recursive: true, force: true }));
  return {
    get tmp() {
      return tmp;
    },
    async server(scenario, options) {
      const server = await startHostileServer(scenario, options);
      servers.push(server);
      return server;
    },
    track(client) {
      clients.push(client);
      return client;
    },
  };
}
