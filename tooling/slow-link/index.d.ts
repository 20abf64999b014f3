import type { Socket } from "node:net";

export interface SlowLinkOptions {
  /** The real server. */
  target: { host: string; port: number };
  /** The forwarder's address (default 127.0.0.1) and port (default 0: any free one). */
  host?: string;
  port?: number;
  /** One-way delay of each direction of every connection, in ms (default 10: 20 ms a round trip). */
  delayMs?: number;
  /** Bytes a second at most, each direction of each data connection (default: no cap). */
  rate?: number;
  /** The same for the control connection (default: no cap). */
  controlRate?: number;
}

/** What one control connection cost. */
export interface SessionCounts {
  commands: number;
  /** Groups of commands sent after the last reply the client received (pipelined ones count once). */
  commandRoundTrips: number;
  dataConnections: number;
  /** Bytes relayed on the data connections, both ways (counted as each closes). */
  dataBytes: number;
  /** commandRoundTrips + dataConnections (a TCP handshake is a round trip on a real link). */
  roundTrips: number;
  verbs: Record<string, number>;
}

export interface SlowLinkStats extends Omit<SessionCounts, "verbs"> {
  controlConnections: number;
  verbs: Record<string, number>;
  sessions: SessionCounts[];
}

export declare class SlowLink {
  static start(options: SlowLinkOptions): Promise<SlowLink>;
  readonly host: string;
  readonly port: number;
  readonly delayMs: number;
  stats(): SlowLinkStats;
  close(): Promise<void>;
}

export interface DelayLineOptions {
  delayMs?: number;
  rate?: number;
  /** Bytes the token bucket holds (default: 10 ms of `rate`, at least 16 KiB). */
  burst?: number;
  /** Bytes queued beyond the bandwidth-delay product before the source is paused (default 256 KiB). */
  margin?: number;
  onDeliver?: (chunk: Buffer) => void;
}

export declare class DelayLine {
  constructor(source: Socket, destination: Socket, options?: DelayLineOptions);
  readonly highWater: number;
  readonly queued: number;
  readonly delivered: number;
  attach(): this;
  push(chunk: Buffer, arrived?: number): void;
  end(arrived?: number): void;
  reset(arrived?: number): void;
  destroy(): void;
}

export declare class CommandCounter {
  commands: number;
  commandRoundTrips: number;
  dataConnections: number;
  dataBytes: number;
  verbs: Record<string, number>;
  readonly roundTrips: number;
  command(line: string): void;
  reply(): void;
  dataConnection(): void;
  toJSON(): SessionCounts;
}

export declare function parsePassiveReply(
  line: string,
): { kind: "pasv" | "epsv"; host?: string; port: number } | undefined;
export declare function rewritePassiveReply(line: string, host: string, port: number): string;
