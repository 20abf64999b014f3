/**
 * @ftplib/protocol: the sans-IO FTP codec. Replies and commands, their parsers, and the transport
 * contract, with no I/O and no platform dependency.
 */
export { ControlCodec, NEED_DATA, PAUSED } from "./control-codec.js";
export type {
  ClosedEvent,
  CodecEvent,
  CodecState,
  ControlCodecOptions,
  ReplyEvent,
  SendOptions,
} from "./control-codec.js";
export { ReplyDecoder } from "./reply-decoder.js";
export { encodeReply } from "./reply-encoder.js";
export type { ReplyDecoderOptions } from "./reply-decoder.js";
export { LineReader } from "./line-reader.js";
export { Reply, replyIs } from "./reply.js";
export type { ReplyCodePattern, ReplyKind } from "./reply.js";
export { completionError, replyError } from "./reply-errors.js";
export { commandVerb, encodeCommand, maskCommand } from "./command.js";
export { latin1, resolveEncoding, singleByteEncoding, utf8 } from "./encoding.js";
export type { TextEncoding } from "./encoding.js";
export {
  ErrorPerm,
  ErrorProto,
  ErrorReply,
  ErrorTemp,
  FtpConnectionError,
  FtpError,
  FtpTimeoutError,
  FtpTlsError,
  LocalProtocolError,
  RemoteProtocolError,
} from "./errors.js";
export type { FtpErrorOptions } from "./errors.js";
export { parse150 } from "./parse-150.js";
export { parse227, parse229 } from "./parse-pasv.js";
export type { HostPort } from "./parse-pasv.js";
export { parse257 } from "./parse-257.js";
export { parseMdtm, parseSize, parseTimeValue } from "./parse-213.js";
export { parseFeat } from "./parse-feat.js";
export { parseHashFeature, parseHashReply, parseXHashReply } from "./parse-hash.js";
export type { HashFeature, HashReply } from "./parse-hash.js";
export {
  buildEprtArgument,
  buildPortArgument,
  isIPv4,
  isIPv6,
  parseEprtArgument,
  parsePortArgument,
  unmapIPv4,
} from "./data-address.js";
export { parseMlsxEntry, parseMlstReply } from "./mlsx.js";
export type { MlsxEntry, MlsxFacts } from "./mlsx.js";
export type {
  AbortSignalLike,
  ByteStream,
  ConnectRequest,
  ControlStream,
  DataConnectRequest,
  DataListenRequest,
  DataListener,
  SocketAddress,
  Transport,
} from "./transport.js";
