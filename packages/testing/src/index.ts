/**
 * @ftplib/testing: record FTP sessions to transcripts, replay them as a transport, and script
 * hostile loopback servers.
 */
export {
  HANG_UP,
  closedPort,
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
  HandlerResult,
  HostileServer,
  HostileServerOptions,
  HostileSession,
  PassiveListener,
  Scenario,
  SendDataOptions,
} from "./hostile-server.js";
