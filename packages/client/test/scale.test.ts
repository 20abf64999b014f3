/**
 * Scale in one process, small enough for CI (`pnpm bench:scale` is the full run, reports/scale.md):
 * a pool of 200 logged-in sessions at once against a vsftpd of this test's own, then 3,000
 * transfers on a pool of 8, with no handle, descriptor, listener or socket object left behind and
 * the heap flat. Runs when FTPLIB_REAL_SERVERS=1 and servers.sh has installed vsftpd (as root);
 * skipped otherwise.
 */
import { randomBytes } from "node:crypto";
import diagnostics from "node:diagnostics_channel";
import { readdirSync, rmSync, writeFileSync } from "node:fs";
import type { Socket } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import v8 from "node:v8";
import vm from "node:vm";
import { type DedicatedVsftpd, startDedicatedVsftpd } from "@ftplib/test-servers";
import { afterAll, describe, expect, it } from "vitest";
import { FTP, FtpPool } from "../src/index.js";

const SESSIONS = 200;
const POOL = 8;
const ROUNDS = 4;
const PER_ROUND = 750;

v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;
const heapAfterGc = (): number => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};
const tcpHandles = () => process.getActiveResourcesInfo().filter((r) => r.startsWith("TCP")).length;
const fds = () => readdirSync("/proc/self/fd").length;
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Every client socket, weakly: listeners on the open ones, and how many objects outlive a GC.
const sockets = new Set<WeakRef<Socket>>();
let alive = 0;
const collected = new FinalizationRegistry(() => alive--);
const onSocket = (message: unknown) => {
  const { socket } = message as { socket: Socket };
  const ref = new WeakRef(socket);
  sockets.add(ref);
  alive++;
  collected.register(socket, undefined);
  socket.once("close", () => sockets.delete(ref));
};
diagnostics.subscribe("net.client.socket", onSocket);
const listeners = () => {
  let total = 0;
  for (const ref of sockets) {
    const socket = ref.deref();
    if (socket !== undefined && !socket.destroyed)
      for (const event of socket.eventNames()) total += socket.listenerCount(event);
  }
  return total;
};

const scratch = fileURLToPath(new URL(`../../../.tmp/scale/test-${process.pid}`, import.meta.url));
const server: DedicatedVsftpd | string =
  process.env.FTPLIB_REAL_SERVERS === "1"
    ? await startDedicatedVsftpd({ scratch, passive: [30500, 30999], maxClients: 500 }).catch(
        (error: Error) => error.message,
      )
    : "FTPLIB_REAL_SERVERS is not 1";
afterAll(async () => {
  diagnostics.unsubscribe("net.client.socket", onSocket);
  if (typeof server !== "string") await server.close();
  rmSync(scratch, { recursive: true, force: true });
});

describe.skipIf(typeof server === "string")(
  `scale: a dedicated vsftpd${typeof server === "string" ? ` (${server})` : ""}`,
  () => {
    const s = server as DedicatedVsftpd;
    const login = { host: s.host, port: s.port, user: s.user, password: s.password, timeout: 60_000 };

    it(`holds ${SESSIONS} logged-in sessions in one pool, and closes them all`, async () => {
      const before = tcpHandles();
      const pool = new FtpPool({ connect: () => FTP.open(login), size: SESSIONS });
      let arrived = 0;
      let all!: () => void;
      const together = new Promise<void>((resolve) => (all = resolve));
      const pwds = await Promise.all(
        Array.from({ length: SESSIONS }, () =>
          pool.run(async (ftp) => {
            if (++arrived === SESSIONS) all();
            await together;
            return ftp.pwd();
          }),
        ),
      );
      expect(pwds).toEqual(Array(SESSIONS).fill("/"));
      expect(tcpHandles() - before).toBe(SESSIONS);
      await pool.close();
      for (let i = 0; i < 100 && tcpHandles() > before; i++) await pause(20);
      expect(tcpHandles()).toBe(before);
    }, 120_000);

    it(`moves ${ROUNDS * PER_ROUND} small files on a pool of ${POOL} with nothing growing`, async () => {
      const data = randomBytes(4096);
      writeFileSync(join(s.root, "small.bin"), data);
      const fdsBefore = fds();
      const pool = new FtpPool({ connect: () => FTP.open(login), size: POOL });
      const round = async () => {
        let next = 0;
        const worker = async (w: number) => {
          while (next < PER_ROUND) {
            const i = next++;
            if (i % 10 === 9) {
              await pool.run((ftp) => ftp.storBinary(`STOR up-${w}.bin`, data));
              continue;
            }
            const blocks: Uint8Array[] = [];
            await pool.run((ftp) => ftp.retrBinary("RETR small.bin", (block) => blocks.push(block.slice())));
            expect(Buffer.concat(blocks).equals(data)).toBe(true);
          }
        };
        await Promise.all(Array.from({ length: POOL }, (_, w) => worker(w)));
        await pause(50);
        const heap = heapAfterGc();
        await pause(50); // finalizers run after the GC
        return { heap, fds: fds(), tcp: tcpHandles(), listeners: listeners(), alive };
      };
      // The first round warms up (JIT, the pool's connections); the others must not grow.
      const first = await round();
      const rounds = [first];
      for (let r = 1; r < ROUNDS; r++) rounds.push(await round());
      for (const r of rounds) {
        expect(r.tcp).toBe(POOL);
        expect(r.fds).toBe(first.fds);
        expect(r.listeners).toBe(first.listeners);
        // Only the control sockets stay reachable: every data socket was let go.
        expect(r.alive).toBeLessThanOrEqual(POOL + 2);
      }
      // Compiled code still grows a little after the first round (about 20 bytes a transfer here);
      // a transfer that kept its data socket or a closure alive would cost kilobytes each.
      const growth = rounds.at(-1)!.heap - first.heap;
      expect(growth / ((ROUNDS - 1) * PER_ROUND)).toBeLessThan(256);
      await pool.close();
      for (let i = 0; i < 100 && fds() > fdsBefore; i++) await pause(20);
      expect(fds()).toBe(fdsBefore);
    }, 120_000);
  },
);
