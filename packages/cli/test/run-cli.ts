/** Runs the built `ftplib` binary as a user's shell would, with pipes for stdin, stdout and stderr. */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";

const BIN = fileURLToPath(new URL("../dist/bin.js", import.meta.url));

export const sha256 = (data: Uint8Array | string) => createHash("sha256").update(data).digest("hex");

export interface CliResult {
  code: number | null;
  stdout: string;
  /** stdout as bytes, for binary data. */
  stdoutBytes: Buffer;
  stderr: string;
}

export interface CliOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/** Starts the binary; the caller reads its output and ends its stdin. */
export function spawnCli(args: string[], options: CliOptions = {}): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd,
    // No FTPLIB_PASSWORD or netrc from the machine running the tests, unless given.
    env: { PATH: process.env.PATH, HOME: "/nonexistent", ...options.env },
    stdio: ["pipe", "pipe", "pipe"],
  });
}

export function runCli(args: string[], options: CliOptions & { input?: string | Buffer } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawnCli(args, options);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.on("error", reject);
    child.on("close", (code) =>
      resolve({
        code,
        stdout: Buffer.concat(out).toString("utf8"),
        stdoutBytes: Buffer.concat(out),
        stderr: Buffer.concat(err).toString("utf8"),
      }),
    );
    child.stdin.end(options.input ?? "");
  });
}
