/**
 * The forwarder against a tiny FTP-shaped server: the delay each way, the rate cap, the PASV and
 * EPSV rewrite, and the counts. Tolerances are wide: the machine may be busy.
 */
import { createHash, randomBytes } from "node:crypto";
import { connect, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { SlowLink } from "../index.js";
import { startFakeServer, type FakeServer } from "./fake-server.js";

let fake: FakeServer | undefined;
let link: SlowLink | undefined;
afterEach(async () => {
  await link?.close();
  await fake?.close();
  link = fake = undefined;
});

/** A control connection through the link, reading replies a line at a time. */
async function control(port: number) {
  const socket = connect(port, "127.0.0.1");
  socket.setEncoding("latin1");
  const lines: string[] = [];
  const waiters: (() => void)[] = [];
  let text = "";
  socket.on("data", (chunk: string) => {
    text += chunk;
    let end;
    while ((end = text.indexOf("\n")) >= 0) {
      lines.push(text.slice(0, end).trim());
      text = text.slice(end + 1);
      waiters.shift()?.();
    }
  });
  const reply = async () => {
    if (lines.length === 0) await new Promise<void>((resolve) => waiters.push(resolve));
    return lines.shift() as string;
  };
  await reply(); // the greeting
  return { socket, reply, send: (line: string) => socket.write(`${line}\r\n`) };
}

function receiveAll(socket: Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  return new Promise((resolve, reject) => {
    socket.on("end", () => resolve(Buffer.concat(chunks)));
    socket.on("error", reject);
  });
}

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

describe("SlowLink", () => {
  it("delays each direction: a command's reply takes at least a round trip, and pipelined lines are one", async () => {
    fake = await startFakeServer();
    link = await SlowLink.start({ target: { host: "127.0.0.1", port: fake.port }, delayMs: 50 });
    const c = await control(link.port);
    const started = performance.now();
    c.send("NOOP");
    expect(await c.reply()).toBe("200 ok");
    const roundTrip = performance.now() - started;
    expect(roundTrip).toBeGreaterThanOrEqual(99);
    expect(roundTrip).toBeLessThan(1000);

    // Three pipelined commands: their replies come together, a round trip later, not three.
    const pipelined = performance.now();
    c.socket.write("NOOP\r\nSYST\r\nnoop\r\n");
    for (let i = 0; i < 3; i++) await c.reply();
    const elapsed = performance.now() - pipelined;
    expect(elapsed).toBeGreaterThanOrEqual(99);
    expect(elapsed).toBeLessThan(1000); // three round trips would be 300 ms: the counts below tell them apart

    c.send("QUIT");
    await c.reply();
    const stats = link.stats();
    expect(stats).toMatchObject({ controlConnections: 1, commands: 5, commandRoundTrips: 3, dataConnections: 0 });
    expect(stats.verbs).toEqual({ NOOP: 3, SYST: 1, QUIT: 1 });
    c.socket.destroy();
  });

  it.each(["PASV", "EPSV"])("rewrites the reply to %s, relays the data connection, and caps its rate", async (verb) => {
    const data = randomBytes(1024 * 1024);
    fake = await startFakeServer(data);
    // 2 MB/s: the 1 MiB takes about half a second.
    link = await SlowLink.start({ target: { host: "127.0.0.1", port: fake.port }, delayMs: 20, rate: 2_000_000 });
    const c = await control(link.port);
    c.send(verb);
    const reply = await c.reply();
    const port =
      verb === "PASV"
        ? Number(/(\d+),\d+\)/.exec(reply)![1]) * 256 + Number(/(\d+)\)/.exec(reply)![1])
        : Number(/\|\|\|(\d+)\|/.exec(reply)![1]);
    expect(reply).toContain(verb === "PASV" ? "127,0,0,1," : "(|||");
    const started = performance.now();
    const received = await receiveAll(connect(port, "127.0.0.1"));
    const seconds = (performance.now() - started) / 1000;
    expect(sha(received)).toBe(sha(data));
    const rate = data.length / seconds;
    expect(rate).toBeLessThan(2_000_000 * 1.25);
    expect(rate).toBeGreaterThan(2_000_000 / 4);
    expect(link.stats()).toMatchObject({ commands: 1, commandRoundTrips: 1, dataConnections: 1, roundTrips: 2 });
    c.socket.destroy();
  });

  it("refuses active mode with a clear reply, without passing it to the server", async () => {
    fake = await startFakeServer();
    link = await SlowLink.start({ target: { host: "127.0.0.1", port: fake.port }, delayMs: 5 });
    const c = await control(link.port);
    c.send("PORT 127,0,0,1,4,1");
    expect(await c.reply()).toMatch(/^502 .*passive mode only/);
    c.send("NOOP");
    expect(await c.reply()).toBe("200 ok");
    expect(fake.received).toEqual(["NOOP"]);
    c.socket.destroy();
  });
});
