/**
 * @ftplib/testing: record FTP sessions to transcripts, replay them as a transport, and script
 * hostile loopback servers.
 */
export {
  HANG_UP,
  closedPort,
  dripData,
  epsvReply,
  multilineReply,
  overlongReply,
  pasvReply,
  receiveData,
  sendData,
  startHostileServer,
} from "./hostile-server.js";
export type {
  CommandHandler,
  CommandHandlers,
  DripOptions,
  HandlerResult,
  HostileServer,
  HostileServerOptions,
  HostileSession,
  PassiveListener,
  Scenario,
  SendDataOptions,
} from "./hostile-server.js";
export { RecordingTransport } from "./recording-transport.js";
export type { RecordingOptions } from "./recording-transport.js";
export { ReplayTransport, TranscriptMismatchError } from "./replay-transport.js";
export type { ReplayOptions } from "./replay-transport.js";
export { TranscriptSyntaxError, formatTranscript, parseTranscript, patternBytes } from "./transcript.js";
export type { Content, LocatedEvent, StreamId, Transcript, TranscriptEvent } from "./transcript.js";
