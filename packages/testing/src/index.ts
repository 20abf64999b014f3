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
export { RecordingTransport, normaliseCommand, normaliseReply } from "./recording-transport.js";
export type { RecordingOptions } from "./recording-transport.js";
export { ReplayTransport, TranscriptMismatchError, commandMatches } from "./replay-transport.js";
export type { ReplayOptions } from "./replay-transport.js";
export {
  INLINE_LIMIT,
  TRANSCRIPT_HEADER,
  TranscriptSyntaxError,
  actorOf,
  contentBytes,
  describeContent,
  formatEvent,
  formatTranscript,
  parseTranscript,
  patternBytes,
  sha256,
  streamOf,
} from "./transcript.js";
export type { Actor, Content, LocatedEvent, StreamId, Transcript, TranscriptEvent } from "./transcript.js";
