/**
 * @ftplib/transport: the Node implementation of the transport contract of @ftplib/protocol.
 */
export { NodeTransport, nodeTransport } from "./node-transport.js";
export type { NodeTransportOptions } from "./node-transport.js";
export type { NodeTlsOptions } from "./control-stream.js";
