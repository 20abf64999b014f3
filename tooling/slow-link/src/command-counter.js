/**
 * What one control connection cost: the commands the client sent, by verb, and the round trips.
 * A round trip is a group of command lines the client sent after the last reply it received and
 * before the next one (pipelined commands count once), or a data connection opened (a TCP
 * handshake is a round trip on a real link).
 */
export class CommandCounter {
  constructor() {
    this.commands = 0;
    this.commandRoundTrips = 0;
    this.dataConnections = 0;
    /** Bytes relayed on the data connections, both ways, counted when each closes. */
    this.dataBytes = 0;
    /** @type {Record<string, number>} */
    this.verbs = {};
    this.waiting = false; // a command was sent and no reply has reached the client since
  }

  /** A command line the client sent (without its line end). */
  command(line) {
    // ABOR may come after Telnet's IP and Synch (IAC IP IAC DM): count the verb only.
    const words = /([A-Za-z]+)(?: +(\S+))?/.exec(line);
    let verb = words?.[1].toUpperCase() ?? "?";
    // The mode and type are told apart: "MODE Z" is what a compressed transfer costs.
    if ((verb === "MODE" || verb === "TYPE") && words?.[2] !== undefined) verb += ` ${words[2].toUpperCase()}`;
    this.commands++;
    this.verbs[verb] = (this.verbs[verb] ?? 0) + 1;
    if (!this.waiting) this.commandRoundTrips++;
    this.waiting = true;
  }

  /** A reply reached the client. */
  reply() {
    this.waiting = false;
  }

  dataConnection() {
    this.dataConnections++;
  }

  get roundTrips() {
    return this.commandRoundTrips + this.dataConnections;
  }

  toJSON() {
    const { commands, commandRoundTrips, dataConnections, roundTrips, dataBytes } = this;
    return { commands, commandRoundTrips, dataConnections, roundTrips, dataBytes, verbs: { ...this.verbs } };
  }
}
