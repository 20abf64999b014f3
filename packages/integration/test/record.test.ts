/**
 * Re-records the corpus against live servers and compares each session with its checked-in
 * transcript: ftp-srv (in-process) in every run, the Debian servers with FTPLIB_REAL_SERVERS=1.
 * With FTPLIB_RECORD=1 (`pnpm --filter @ftplib/integration-tests record`) the transcripts are written
 * instead of compared.
 */
import { readFileSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type EmbeddedServer, type RealServer, realServers, startEmbeddedServer, testTls } from "@ftplib/test-servers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CorpusTarget, SCENARIOS, corpusFile, prepareFixture, recordScenario, removeFixture } from "./corpus.js";

const writing = process.env.FTPLIB_RECORD === "1";
const realWanted = process.env.FTPLIB_REAL_SERVERS === "1";

async function check(target: CorpusTarget, scenarioName: string): Promise<void> {
  const scenario = SCENARIOS.find((s) => s.name === scenarioName)!;
  const text = await recordScenario(target, scenario);
  const file = corpusFile(target.server, scenario.name);
  if (writing) {
    await writeFile(file, text);
    return;
  }
  expect(text).toBe(await readFile(file, "utf8"));
}

describe("ftp-srv sessions, re-recorded", () => {
  let root: string;
  const servers: Partial<Record<"plain" | "explicit" | "implicit" | "ipv6", EmbeddedServer>> = {};
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "ftplib-transcripts-"));
    await prepareFixture(root);
    const tls = { key: testTls.key, cert: testTls.cert };
    servers.plain = await startEmbeddedServer("127.0.0.1", { root });
    servers.ipv6 = await startEmbeddedServer("::1", { root });
    servers.explicit = await startEmbeddedServer("127.0.0.1", { root, tls });
    servers.implicit = await startEmbeddedServer("127.0.0.1", { root, tls, implicit: true });
  });
  afterAll(async () => {
    for (const server of Object.values(servers)) await server?.close();
    await removeFixture(root);
    await rm(root, { recursive: true, force: true });
  });

  for (const scenario of SCENARIOS.filter((s) => s.only === undefined || s.only.includes("ftp-srv"))) {
    it(scenario.name, async () => {
      const server =
        scenario.tls === "none" ? (scenario.family === 6 ? servers.ipv6! : servers.plain!) : servers[scenario.tls]!;
      const target: CorpusTarget = {
        server: "ftp-srv",
        host: server.host,
        port: server.port,
        user: server.user,
        password: server.password,
        tls: scenario.tls,
        ca: testTls.ca,
        root,
      };
      await check(target, scenario.name);
    });
  }
});

/** The endpoint of `server` for a scenario: explicit endpoints serve plain FTP too. */
function endpointFor(server: RealServer, tls: CorpusTarget["tls"], family: 4 | 6) {
  const kinds = tls === "implicit" ? ["implicit"] : tls === "explicit" ? ["explicit"] : ["none", "explicit"];
  return server.endpoints.find((e) => e.family === family && kinds.includes(e.tls));
}

describe.runIf(realWanted)("Debian server sessions, re-recorded", () => {
  const servers = realServers();

  it("are running (bash servers/servers.sh start)", () => {
    expect(servers.length).toBeGreaterThan(0);
  });

  for (const server of servers) {
    describe(server.name, () => {
      beforeAll(() => prepareFixture(server.root));
      afterAll(() => removeFixture(server.root));
      for (const scenario of SCENARIOS) {
        const endpoint = endpointFor(server, scenario.tls, scenario.family ?? 4);
        const applies = scenario.only === undefined || scenario.only.includes(server.name);
        it.runIf(endpoint !== undefined && applies)(scenario.name, async () => {
          const target: CorpusTarget = {
            server: server.name,
            version: server.version,
            host: endpoint!.host,
            port: endpoint!.port,
            user: server.user,
            password: server.password,
            tls: scenario.tls,
            ca: server.ca === undefined ? undefined : readFileSync(server.ca, "utf8"),
          };
          await check(target, scenario.name);
        });
      }
    });
  }
});
