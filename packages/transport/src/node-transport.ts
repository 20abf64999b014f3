/**
 * The Node transport: control connections over `node:net` (or `node:tls` for implicit FTPS).
 */
import { type ConnectRequest, type ControlStream, FtpConnectionError, type Transport } from "@ftplib/protocol";
import { lookup } from "node:dns/promises";
import * as net from "node:net";
import { whenReady } from "./connect.js";
import { NodeControlStream, type NodeTlsOptions } from "./control-stream.js";

export interface NodeTransportOptions {
  /** Bytes of the reused read buffer of each plain data connection (default 256 KiB). */
  readBufferSize?: number;
}

export class NodeTransport implements Transport<NodeTlsOptions> {
  readonly readBufferSize: number;
  /** Read buffers shared by the data connections of every control connection of this transport. */
  private readonly readBuffers: Buffer[] = [];

  constructor(options: NodeTransportOptions = {}) {
    const { readBufferSize = 256 * 1024 } = options;
    if (!Number.isInteger(readBufferSize) || readBufferSize < 1024) {
      throw new RangeError(`readBufferSize must be an integer of at least 1024, not ${readBufferSize}`);
    }
    this.readBufferSize = readBufferSize;
  }

  /**
   * Opens the control connection over TCP, or TLS from the first byte for implicit FTPS.
   *
   * @returns the control connection, connected.
   */
  async connect(request: ConnectRequest<NodeTlsOptions>): Promise<ControlStream<NodeTlsOptions>> {
    const timeout = request.timeout ?? 0;
    const local: net.TcpSocketConnectOpts = {
      port: request.port,
      localAddress: await localAddressOf(request.sourceAddress?.host, request.host),
      localPort: request.sourceAddress?.port,
    };
    const what = `connection to ${request.host}:${request.port}`;
    const options = {
      host: request.host,
      timeout,
      tls: request.tls ?? request.implicitTls,
      readBufferSize: this.readBufferSize,
      readBuffers: this.readBuffers,
    };
    // No Nagle delay: a command or the last bytes of an upload never wait for the previous ACK.
    const socket = net.connect({ ...local, host: request.host, noDelay: true });
    const stream = new NodeControlStream(socket, options);
    await whenReady(socket, "connect", what, timeout, request.signal);
    // Implicit FTPS: the same TLS layer as after AUTH TLS, started before the greeting.
    if (request.implicitTls !== undefined) await stream.startTls(request.implicitTls);
    return stream;
  }
}

/** A source address as an IP address: a name (`localhost`) is looked up, as ftplib binds to one. */
async function localAddressOf(host: string | undefined, target: string): Promise<string | undefined> {
  if (host === undefined || net.isIP(host) !== 0) return host;
  try {
    // Of the target's family when it is an address: `localhost` may be ::1 or 127.0.0.1.
    return (await lookup(host, { family: net.isIP(target) })).address;
  } catch (error) {
    throw new FtpConnectionError(`source address ${host} could not be resolved`, {
      code: "ERR_FTP_SOURCE_ADDRESS",
      cause: error,
    });
  }
}

/** The default transport. */
export const nodeTransport = new NodeTransport();
