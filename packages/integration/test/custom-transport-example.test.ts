/**
 * The custom-transport example (examples/custom-transport) against a real server through a real
 * HTTP CONNECT proxy: every connection goes through the proxy, plain FTP and FTPS alike, and
 * what a tunnel cannot do fails with a typed error.
 */
import { readFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { ErrorPerm, FTP, FTP_TLS, FtpConnectionError } from "@ftplib/client";
import { type EmbeddedServer, realServers, startEmbeddedServer, testTls } from "@ftplib/test-servers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HttpConnectTransport } from "../../../examples/custom-transport/http-connect-transport.js";
import { RecordingTransport } from "@ftplib/testing";

/** A minimal CONNECT proxy on loopback that remembers where each tunnel went. */
async function startProxy(): Promise<{ port: number; tunnels: string[]; close(): Promise<void> }> {
  const tunnels: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = http.createServer((_, res) => res.writeHead(405).end());
  server.on("connect", (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    const url = new URL(`http://${req.url}`);
    tunnels.push(req.url ?? "");
    const upstream = net.connect(Number(url.port), url.hostname.replace(/^\[|\]$/g, ""));
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("error", () => undefined);
      s.on("close", () => sockets.delete(s));
    }
    upstream.once("connect", () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.once("error", () => client.end("HTTP/1.1 502 Bad Gateway\r\n\r\n"));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    tunnels,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe("examples/custom-transport: FTP through an HTTP CONNECT proxy", () => {
  let proxy: Awaited<ReturnType<typeof startProxy>>;
  let plain: EmbeddedServer;
  let secure: EmbeddedServer;
  let transport: HttpConnectTransport;

  beforeAll(async () => {
    proxy = await startProxy();
    plain = await startEmbeddedServer("127.0.0.1");
    secure = await startEmbeddedServer("127.0.0.1", { tls: { key: testTls.key, cert: testTls.cert } });
    transport = new HttpConnectTransport({ proxy: { host: "127.0.0.1", port: proxy.port } });
  });
  afterAll(async () => {
    await plain.close();
    await secure.close();
    await proxy.close();
  });

  it("logs in, uploads, lists and downloads, every connection tunnelled", async () => {
    proxy.tunnels.length = 0;
    await using ftp = await FTP.open({
      host: plain.host,
      port: plain.port,
      user: plain.user,
      password: plain.password,
      transport,
      timeout: 5000,
    });
    const content = new TextEncoder().encode("through the proxy\n".repeat(1000));
    await ftp.storBinary("STOR proxied.txt", content);
    expect(await ftp.nlst()).toContain("proxied.txt");
    const chunks: Uint8Array[] = [];
    await ftp.retrBinary("RETR proxied.txt", (b) => void chunks.push(Uint8Array.from(b)));
    expect(Buffer.concat(chunks).equals(Buffer.from(content))).toBe(true);
    await expect(ftp.size("missing")).rejects.toBeInstanceOf(ErrorPerm);
    // One tunnel for the control connection, one per data connection.
    expect(proxy.tunnels[0]).toBe(`127.0.0.1:${plain.port}`);
    expect(proxy.tunnels.length).toBe(4);
  });

  it("FTPS: AUTH TLS, PROT P, certificates checked, through the tunnel", async () => {
    await using ftps = await FTP_TLS.open({
      host: secure.host,
      port: secure.port,
      user: secure.user,
      password: secure.password,
      transport,
      timeout: 5000,
      tls: { ca: testTls.ca },
    });
    expect(ftps.secure).toBe(true);
    await ftps.protP();
    await ftps.storBinary("STOR secret.txt", new TextEncoder().encode("sealed"));
    const chunks: Uint8Array[] = [];
    await ftps.retrBinary("RETR secret.txt", (b) => void chunks.push(Uint8Array.from(b)));
    expect(Buffer.concat(chunks).toString()).toBe("sealed");
  });

  it("what a tunnel cannot do fails with a typed error: active mode", async () => {
    await using ftp = await FTP.open({
      host: plain.host,
      port: plain.port,
      user: plain.user,
      password: plain.password,
      transport,
      timeout: 5000,
    });
    ftp.setPasv(false);
    const error = await ftp.nlst().catch((e: unknown) => e);
    expect(FtpConnectionError.isInstance(error)).toBe(true);
    expect((error as FtpConnectionError).code).toBe("ERR_FTP_ACTIVE_UNSUPPORTED");
  });

  it("custom transports compose: recording a session through the proxy", async () => {
    const recording = new RecordingTransport({ transport });
    await using ftp = await FTP.open({
      host: plain.host,
      port: plain.port,
      user: plain.user,
      password: plain.password,
      transport: recording,
      timeout: 5000,
    });
    await ftp.pwd();
    expect(recording.text()).toMatch(/^> PWD\n< 257 /m);
  });
});

describe.runIf(process.env.FTPLIB_REAL_SERVERS === "1")("examples/custom-transport against the Debian servers", () => {
  for (const server of realServers().filter((s) => s.endpoints.some((e) => e.tls === "explicit" && e.family === 4))) {
    it(`${server.name}: FTPS with PROT P through the proxy (data connections resume the session)`, async () => {
      const proxy = await startProxy();
      try {
        const endpoint = server.endpoints.find((e) => e.tls === "explicit" && e.family === 4)!;
        const transport = new HttpConnectTransport({ proxy: { host: "127.0.0.1", port: proxy.port } });
        await using ftps = await FTP_TLS.open({
          host: endpoint.host,
          port: endpoint.port,
          user: server.user,
          password: server.password,
          transport,
          timeout: 10_000,
          tls: { ca: readFileSync(server.ca!, "utf8") },
        });
        await ftps.protP();
        const names = await ftps.nlst();
        expect(Array.isArray(names)).toBe(true);
        expect(proxy.tunnels.length).toBe(2);
      } finally {
        await proxy.close();
      }
    });
  }
});
