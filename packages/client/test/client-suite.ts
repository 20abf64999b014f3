/**
 * The FTP class against one real server in one mode: every method, byte-exact round trips, resume,
 * abort, UTF-8 names, the cases of CPython's test_ftplib.py that apply. The same suite runs against
 * the embedded server (ftp-srv) in `pnpm test` and against the Debian servers.
 */
import { createHash, randomBytes } from "node:crypto";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { Writable } from "node:stream";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ErrorPerm,
  ErrorProto,
  FTP,
  type FTPOptions,
  FtpConnectionError,
  FtpError,
  FtpTimeoutError,
  LocalProtocolError,
  isFtpError,
} from "../src/index.js";

export interface SuiteTarget {
  /** The server's name, for test titles. */
  server: string;
  /** Read when the suite is defined; everything else only when it runs. */
  family: "IPv4" | "IPv6";
  host: string;
  port: number;
  user: string;
  password: string;
  /** The directory the user lands in, on this machine's file system. */
  root: string;
  passive: boolean;
  /** Options for the FTP class (an FTP_TLS setup, say). */
  options?: FTPOptions;
  /** Makes the client; FTP.open by default. */
  open?: (options: FTPOptions & { host: string; port: number; user: string; password: string }) => Promise<FTP>;
  quirks?: {
    /** REST before STOR truncates instead of resuming (ftp-srv). */
    restStorTruncates?: boolean;
    /** The server stops serving a session whose passive data connection is closed during RETR (ftp-srv). */
    passiveAbortHangs?: boolean;
    /** Replies to commands sent after ABOR may come before ABOR's own (ftp-srv runs commands concurrently). */
    abortRepliesOutOfOrder?: boolean;
  };
}

export const sha256 = (data: Uint8Array): string => createHash("sha256").update(data).digest("hex");
const BIG = randomBytes(50 * 1024 * 1024);
const SMALL = randomBytes(1500);

async function download(ftp: FTP, name: string, rest?: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  await ftp.retrBinary(
    `RETR ${name}`,
    (block) => {
      parts.push(Buffer.from(block));
    },
    rest === undefined ? {} : { rest },
  );
  return Buffer.concat(parts);
}

export function defineClientSuite(target: SuiteTarget): void {
  const family = target.family;
  const quirks = target.quirks ?? {};
  const title = `${target.server} over ${family}, ${target.passive ? "passive" : "active"}`;

  describe(title, () => {
    let ftp: FTP;
    /** This run's own directory, so that runs in other modes do not meet. */
    let base: string;
    let local: string;
    const options = () => ({
      host: target.host,
      port: target.port,
      user: target.user,
      password: target.password,
      timeout: 10_000,
      passive: target.passive,
      ...target.options,
    });
    const open = () => (target.open ?? ((o) => FTP.open(o)))(options());

    let tmp = "";
    const reopen = async () => {
      ftp.close();
      const fresh = await open();
      await fresh.cwd(base);
      return fresh;
    };

    beforeAll(async () => {
      tmp = await mkdtemp(join(tmpdir(), "ftplib-local-"));
      ftp = await open();
      const dir = `run-${family}-${target.passive ? "pasv" : "actv"}-${process.pid}`;
      local = join(target.root, dir);
      await rm(local, { recursive: true, force: true });
      await ftp.mkd(dir);
      await ftp.cwd(dir);
      base = await ftp.pwd();
    });
    afterAll(async () => {
      ftp?.close();
      await rm(local, { recursive: true, force: true });
      await rm(tmp, { recursive: true, force: true });
    });

    it("greets, logs in, and knows where it is", () => {
      expect(ftp.getWelcome()).toMatch(/^220/);
      expect(ftp.welcome).toBe(ftp.getWelcome());
      expect(ftp.host).toBe(target.host);
      expect(ftp.port).toBe(target.port);
      expect(base).toMatch(/run-/);
      expect(ftp.lastResp).toBe("257");
    });

    it.each([
      ["empty", Buffer.alloc(0)],
      ["small", SMALL],
      ["50 MB", BIG],
    ])("round-trips a %s file byte for byte", async (label, data) => {
      const name = `round-trip-${label.replace(/ /g, "")}.bin`;
      expect(await ftp.storBinary(`STOR ${name}`, data)).toMatch(/^2/);
      expect(sha256(await readFile(join(local, name)))).toBe(sha256(data));
      const back = await download(ftp, name);
      expect(back.length).toBe(data.length);
      expect(sha256(back)).toBe(sha256(data));
    });

    it("uploads from an async iterable, with a callback per block", async () => {
      const blocks: number[] = [];
      // eslint-disable-next-line @typescript-eslint/require-await -- an async source that never waits
      async function* source() {
        yield SMALL.subarray(0, 1000);
        yield SMALL.subarray(1000);
      }
      await ftp.storBinary("STOR iter.bin", source(), { blocksize: 256, callback: (b) => blocks.push(b.length) });
      expect(blocks.every((n) => n <= 256)).toBe(true);
      expect(blocks.reduce((a, b) => a + b, 0)).toBe(SMALL.length);
      expect(sha256(await download(ftp, "iter.bin"))).toBe(sha256(SMALL));
    });

    it("resumes a download with rest", async () => {
      await writeFile(join(local, "resume.bin"), SMALL);
      expect(sha256(await download(ftp, "resume.bin", 1000))).toBe(sha256(SMALL.subarray(1000)));
    });

    it.skipIf(quirks.restStorTruncates)("resumes an upload with rest", async () => {
      await ftp.storBinary("STOR partial.bin", SMALL.subarray(0, 700));
      await ftp.storBinary("STOR partial.bin", SMALL.subarray(700), { rest: 700 });
      expect(sha256(await readFile(join(local, "partial.bin")))).toBe(sha256(SMALL));
    });

    it("appends with APPE", async () => {
      await ftp.storBinary("STOR appended.bin", SMALL.subarray(0, 700));
      await ftp.storBinary("APPE appended.bin", SMALL.subarray(700));
      expect(sha256(await readFile(join(local, "appended.bin")))).toBe(sha256(SMALL));
    });

    it("hands blocks of at most blocksize bytes to retrBinary's callback", async () => {
      const sizes: number[] = [];
      await ftp.retrBinary("RETR round-trip-small.bin", (b) => sizes.push(b.length), { blocksize: 100 });
      expect(Math.max(...sizes)).toBeLessThanOrEqual(100);
      expect(sizes.reduce((a, b) => a + b, 0)).toBe(SMALL.length);
    });

    it.skipIf(target.passive && quirks.passiveAbortHangs)(
      "aborts a download in the middle and stays usable",
      async () => {
        // Its own connection, so that a server that loses track cannot spoil the other tests.
        const own = await open();
        await own.cwd(base);
        let received = 0;
        let abortReply = "";
        const resp = await own.retrBinary("RETR round-trip-50MB.bin", async (block) => {
          received += block.length;
          if (abortReply === "") abortReply = await own.abort();
        });
        expect(abortReply).toMatch(/^(225|226|426)/);
        // After ABOR the transfer ends with whatever the server says (pure-ftpd may say 150).
        expect(resp).toMatch(/^[1-5]\d\d/);
        expect(received).toBeLessThan(BIG.length);
        if (!quirks.abortRepliesOutOfOrder) {
          expect(await own.pwd()).toBe(base);
          expect(sha256(await download(own, "round-trip-small.bin"))).toBe(sha256(SMALL));
        }
        own.close();
      },
    );

    // The data connection is dropped, not drained, while a block is lent: ftp-srv then stops serving the session.
    it.skipIf(target.passive && quirks.passiveAbortHangs)(
      "keeps a zeroCopy block intact until its callback settles, when the transfer is aborted meanwhile",
      async () => {
        const own = await open();
        await own.cwd(base);
        let checked = 0;
        let changed = 0;
        let aborting: Promise<string> | undefined;
        await own.retrBinary(
          "RETR round-trip-50MB.bin",
          async (block) => {
            const copy = Buffer.from(block);
            // Aborted from elsewhere (a timer, say) while this block is still being used.
            aborting ??= new Promise((resolve) => setImmediate(resolve)).then(() => own.abort());
            await new Promise((resolve) => setTimeout(resolve, 30));
            checked++;
            if (!copy.equals(block)) changed++;
          },
          { zeroCopy: true },
        );
        expect(await aborting).toMatch(/^(225|226|426)/);
        expect(checked).toBeGreaterThan(0);
        expect(changed).toBe(0);
        if (!quirks.abortRepliesOutOfOrder) expect(await own.pwd()).toBe(base);
        own.close();
      },
      20_000,
    );

    it("refuses a command from a transfer's callback at once, before and after an await; calls from elsewhere wait their turn", async () => {
      const own = await open();
      await own.cwd(base);
      const refused: unknown[] = [];
      let openGate!: () => void;
      const gate = new Promise<void>((resolve) => (openGate = resolve));
      // Made outside the callback, while it runs: it waits for the transfer, and is not refused.
      const outside = gate.then(() => own.pwd());
      let late: Promise<string> | undefined;
      // A large file: the transfer is still under way while the first callback waits.
      await own.retrBinary("RETR round-trip-50MB.bin", async () => {
        if (refused.length > 0) return;
        refused.push(await own.pwd().catch((error: unknown) => error));
        await new Promise((resolve) => setTimeout(resolve, 1));
        refused.push(await own.pwd().catch((error: unknown) => error));
        openGate();
        await new Promise((resolve) => setTimeout(resolve, 20));
        // Left running after the callback ended: once the callback is done, it is a call like any other.
        late = new Promise((resolve) => setTimeout(resolve, 30)).then(() => own.pwd());
      });
      expect(refused).toHaveLength(2);
      for (const error of refused) expect(error).toMatchObject({ code: "ERR_FTP_BUSY" });
      expect(await outside).toBe(base);
      expect(await late).toBe(base);
      own.close();
    });

    it("refuses a command that an upload's own source makes and awaits, instead of waiting for the upload", async () => {
      const own = await open();
      await own.cwd(base);
      async function* source() {
        yield SMALL;
        // The upload waits for this source, so this call cannot wait for the upload.
        await own.pwd();
        yield SMALL;
      }
      await expect(own.storBinary("STOR nested-source.bin", source())).rejects.toMatchObject({ code: "ERR_FTP_BUSY" });
      own.close();
    });

    it("stops the server's side when a callback fails, and stays usable", async () => {
      const own = await open();
      await own.cwd(base);
      const failure = new Error("callback failed");
      await expect(
        own.retrBinary("RETR round-trip-50MB.bin", () => {
          throw failure;
        }),
      ).rejects.toBe(failure);
      // A server that answers out of order after ABOR gets a fresh connection for the upload.
      const next = quirks.abortRepliesOutOfOrder ? await open() : own;
      await next.cwd(base);
      // eslint-disable-next-line @typescript-eslint/require-await -- an async source that never waits
      async function* failing() {
        yield SMALL;
        throw new Error("source failed");
      }
      await expect(next.storBinary("STOR failed-upload.bin", failing())).rejects.toThrow("source failed");
      expect(await next.pwd()).toBe(base);
      expect(sha256(await download(next, "round-trip-small.bin"))).toBe(sha256(SMALL));
      own.close();
      next.close();
    });

    it.runIf(target.passive && quirks.passiveAbortHangs)(
      "ends a passive abort within the timeout, answered or not",
      async () => {
        // ftp-srv forgets a passive data socket that the client closes during RETR; depending on
        // timing it then answers 551, or waits forever for writes that never complete. Either
        // way the client must finish within the timeout, with a typed error if it finishes badly.
        const slow = await (target.open ?? ((o) => FTP.open(o)))({ ...options(), timeout: 1500 });
        await slow.cwd(base);
        const started = Date.now();
        let abortResult: unknown;
        const outcome = await slow
          .retrBinary("RETR round-trip-50MB.bin", async () => {
            if (abortResult === undefined) abortResult = await slow.abort().catch((e: unknown) => e);
          })
          .catch((e: unknown) => e);
        expect(Date.now() - started).toBeLessThan(5000);
        if (typeof outcome === "string") {
          expect(abortResult).toMatch(/^(225|226|426)/);
          if (!quirks.abortRepliesOutOfOrder) expect(await slow.pwd()).toBe(base);
          slow.close();
        } else {
          expect(FtpTimeoutError.isInstance(outcome), String(outcome)).toBe(true);
          expect(FtpTimeoutError.isInstance(abortResult)).toBe(true);
          await expect(slow.pwd()).rejects.toBeInstanceOf(FtpConnectionError);
        }
      },
    );

    it("transfers lines in text mode, converting line endings both ways", async () => {
      const text = "first line\nsecond line\r\n\nlast line without newline";
      await ftp.storLines("STOR lines.txt", text);
      // What the server stores for ASCII uploads is its own business (CRLF, or LF on Unix servers
      // that convert); what comes back must be the same lines.
      const stored = await readFile(join(local, "lines.txt"), "latin1");
      expect(stored.replace(/\r\n/g, "\n")).toBe("first line\nsecond line\n\nlast line without newline\n");
      const lines: string[] = [];
      expect(await ftp.retrLines("RETR lines.txt", (line) => lines.push(line))).toMatch(/^226/);
      expect(lines).toEqual(["first line", "second line", "", "last line without newline"]);
    });

    it("lists with nlst and dir", async () => {
      const names = (await ftp.nlst()).map((n) => n.replace(/^.*\//, ""));
      expect(names).toEqual(expect.arrayContaining(["round-trip-small.bin", "lines.txt"]));
      const listing: string[] = [];
      await ftp.dir(".", (line) => listing.push(line));
      expect(listing.some((line) => line.endsWith("lines.txt"))).toBe(true);
      const printed: string[] = [];
      const original = console.log;
      console.log = (line: string) => printed.push(line);
      try {
        await ftp.dir();
      } finally {
        console.log = original;
      }
      expect(printed.some((line) => line.endsWith("lines.txt"))).toBe(true);
    });

    it("lists with mlsd where the server offers MLST, and raises ErrorPerm where not (test_mlsd)", async () => {
      const feat = await ftp.sendCmd("FEAT").catch(() => "");
      if (!/^\s*MLST/im.test(feat)) {
        const error = await (async () => {
          for await (const entry of ftp.mlsd()) void entry;
        })().catch((e: unknown) => e);
        expect(ErrorPerm.isInstance(error), String(error)).toBe(true);
        return;
      }
      const entries = new Map<string, Record<string, string>>();
      for await (const [name, facts] of ftp.mlsd("", ["type", "size", "modify"])) entries.set(name, facts);
      expect(entries.get("round-trip-small.bin")).toMatchObject({ type: "file", size: String(SMALL.length) });
      for (const facts of entries.values()) {
        expect(Object.keys(facts).every((k) => k === k.toLowerCase())).toBe(true);
      }
      // Other calls are allowed while iterating: the listing was read whole.
      for await (const [name] of ftp.mlsd()) {
        if (name === "round-trip-small.bin") expect(await ftp.voidCmd("NOOP")).toMatch(/^200/);
      }
    });

    it("lists parsed entries, MLSD where offered and LIST otherwise", async () => {
      const entries = await ftp.list();
      const small = entries.find((e) => e.name === "round-trip-small.bin");
      expect(small).toMatchObject({ type: "file", size: SMALL.length });
      expect(small!.modifiedAt).toBeInstanceOf(Date);
      expect(Math.abs(small!.modifiedAt!.getTime() - Date.now())).toBeLessThan(2 * 86_400_000);
      expect(entries.some((e) => e.name === "." || e.name === "..")).toBe(false);
    });

    it("streams a listing, stops when the loop is left, refuses calls inside the loop, and caps its size", async () => {
      const all = (await ftp.list()).map((e) => e.name).sort();
      const streamed: string[] = [];
      for await (const entry of ftp.listStream()) streamed.push(entry.name);
      expect(streamed.sort()).toEqual(all);
      let seen = 0;
      for await (const entry of ftp.listStream()) {
        void entry;
        if (++seen === 1) {
          await expect(ftp.pwd()).rejects.toMatchObject({ code: "ERR_FTP_BUSY" });
          break;
        }
      }
      if (!quirks.abortRepliesOutOfOrder) {
        expect(await ftp.pwd()).toBe(base);
        const error = await (async () => {
          for await (const entry of ftp.listStream("", { maxBytes: 10 })) void entry;
        })().catch((e: unknown) => e);
        expect((error as { code?: string }).code).toBe("ERR_FTP_LISTING_TOO_LARGE");
        expect(await ftp.pwd()).toBe(base);
      } else {
        ftp = await reopen();
      }
    });

    it("lists with the command asked for: LIST, and MLSD where offered; list() and listStream() agree", async () => {
      const names = (entries: { name: string }[]) => entries.map((e) => e.name).sort();
      const commands: ("LIST" | "MLSD")[] = (await ftp.features()).has("MLST") ? ["LIST", "MLSD"] : ["LIST"];
      await ftp.storBinary("STOR listed-small.bin", SMALL);
      for (const command of commands) {
        const listed = await ftp.list("", { command });
        expect(
          listed.find((e) => e.name === "listed-small.bin"),
          command,
        ).toMatchObject({ type: "file", size: SMALL.length });
        const streamed: { name: string }[] = [];
        for await (const entry of ftp.listStream("", { command })) streamed.push(entry);
        expect(names(streamed), command).toEqual(names(listed));
      }
      await ftp.delete("listed-small.bin");
    });

    it("uploads files whose sizes fall around its read buffers byte for byte", async () => {
      const buffer = 1024 * 1024; // fileChunks' FILE_BUFFER
      for (const size of [0, 1, buffer - 1, buffer, buffer + 1, 3 * buffer + 5]) {
        const bytes = BIG.subarray(0, size);
        const src = join(tmp, `sized-${size}.bin`);
        await writeFile(src, bytes);
        expect(await ftp.upload(src, `sized-${size}.bin`)).toBe(size);
        expect(sha256(await download(ftp, `sized-${size}.bin`)), `${size} bytes`).toBe(sha256(bytes));
        await ftp.delete(`sized-${size}.bin`);
        await rm(src);
      }
    });

    it("uploads from a source that takes turns between two buffers", async () => {
      const size = 5 * 256 * 1024 + 7;
      const buffers = [Buffer.alloc(64 * 1024), Buffer.alloc(64 * 1024)];
      // eslint-disable-next-line @typescript-eslint/require-await -- an async source that never waits
      async function* alternating() {
        for (let at = 0, turn = 0; at < size; at += buffers[0]!.length, turn ^= 1) {
          const chunk = BIG.subarray(at, Math.min(at + buffers[0]!.length, size));
          chunk.copy(buffers[turn]!);
          yield buffers[turn]!.subarray(0, chunk.length);
        }
      }
      await ftp.storBinary("STOR alternating.bin", alternating());
      expect(sha256(await download(ftp, "alternating.bin"))).toBe(sha256(BIG.subarray(0, size)));
      await ftp.delete("alternating.bin");
    });

    it("reads FEAT, and MDTM, MFMT and MLST where offered", async () => {
      const features = await ftp.features();
      expect(features).toBeInstanceOf(Map);
      if (features.has("MDTM")) {
        const modified = await ftp.lastMod("round-trip-small.bin");
        expect(Math.abs(modified.getTime() - Date.now())).toBeLessThan(2 * 86_400_000);
      }
      if (features.has("MFMT")) {
        const when = new Date("2020-02-29T12:34:56Z");
        await ftp.setLastMod("round-trip-small.bin", when);
        expect((await ftp.lastMod("round-trip-small.bin")).toISOString()).toBe(when.toISOString());
      }
      if (features.has("MLST")) {
        const entry = await ftp.mlst("round-trip-small.bin");
        expect(entry).toMatchObject({ type: "file", size: SMALL.length });
      }
    });

    it("downloads to a path atomically, with progress, and resumes a partial download", async () => {
      const dest = join(tmp, "down.bin");
      const reports: number[] = [];
      expect(await ftp.download("round-trip-50MB.bin", dest, { onProgress: (p) => reports.push(p.bytes) })).toBe(
        BIG.length,
      );
      expect(sha256(await readFile(dest))).toBe(sha256(BIG));
      expect(reports.at(-1)).toBe(BIG.length);
      // A partial .part file continues where it stopped.
      await writeFile(`${dest}2.part`, BIG.subarray(0, 1_000_000));
      expect(await ftp.download("round-trip-50MB.bin", `${dest}2`, { resume: true })).toBe(BIG.length - 1_000_000);
      expect(sha256(await readFile(`${dest}2`))).toBe(sha256(BIG));
      expect(await readdir(tmp)).toEqual(["down.bin", "down.bin2"]);
      // 100 MB through an in-process server: seconds when the test run's other packages share the cores.
    }, 20_000);

    it("asks SIZE for a download only when neither the caller nor the server's 150 reply says the size", async () => {
      await ftp.storBinary("STOR sized.bin", SMALL);
      const fresh = await reopen();
      ftp = fresh;
      const sizes: string[] = [];
      const listener = (message: unknown) => {
        const command = (message as { command: string }).command;
        if (command.startsWith("SIZE ")) sizes.push(command);
      };
      subscribe("ftplib.sendcmd", listener);
      const counted = async (options: { size?: number }) => {
        const before = sizes.length;
        const dest = join(tmp, `sized-${before}-${Date.now()}`);
        expect(await ftp.download("sized.bin", dest, options)).toBe(SMALL.length);
        expect(sha256(await readFile(dest))).toBe(sha256(SMALL));
        await rm(dest);
        return sizes.length - before;
      };
      try {
        // A fresh connection has not seen how its server starts a download: SIZE first.
        expect(await counted({})).toBe(1);
        // vsftpd and proftpd say the size in their 150 reply; others are asked every time.
        expect(ftp.announcesSizes).toBe(/^(vsftpd|proftpd)/.test(target.server));
        expect(await counted({})).toBe(ftp.announcesSizes ? 0 : 1);
        // A size from a listing needs no SIZE at all.
        expect(await counted({ size: SMALL.length })).toBe(0);
      } finally {
        unsubscribe("ftplib.sendcmd", listener);
      }
    });

    it("cancels a download with an AbortSignal, leaves no file and stays usable", async () => {
      const controller = new AbortController();
      const dest = join(tmp, "cancelled.bin");
      const error = await ftp
        .download("round-trip-50MB.bin", dest, {
          signal: controller.signal,
          onProgress: (p) => {
            if (p.bytes > 0) controller.abort();
          },
        })
        .catch((e: unknown) => e);
      expect((error as Error).name, String(error)).toBe("AbortError");
      expect((await readdir(tmp)).filter((f) => f.startsWith("cancelled"))).toEqual([]);
      if (!quirks.abortRepliesOutOfOrder) expect(await ftp.pwd()).toBe(base);
    });

    it("uploads from a path, resumes with APPE, and downloads to a stream", async () => {
      if (quirks.abortRepliesOutOfOrder) ftp = await reopen();
      const src = join(tmp, "up.bin");
      await writeFile(src, SMALL);
      expect(await ftp.upload(src, "uploaded.bin")).toBe(SMALL.length);
      await ftp.storBinary("STOR resumed.bin", SMALL.subarray(0, 500));
      expect(await ftp.upload(src, "resumed.bin", { resume: true })).toBe(SMALL.length - 500);
      const parts: Buffer[] = [];
      const sink = new Writable({
        write(chunk: Buffer, _encoding, done) {
          parts.push(chunk);
          done();
        },
      });
      await ftp.download("resumed.bin", sink);
      expect(sha256(Buffer.concat(parts))).toBe(sha256(SMALL));
      await ftp.append(src, "uploaded.bin");
      expect(await ftp.size("uploaded.bin")).toBe(2 * SMALL.length);
    });

    it("makes trees, copies them both ways, and removes them", async () => {
      await ftp.ensureDir("tree/a/b");
      await ftp.ensureDir("tree/a/b");
      const src = join(tmp, "tree-src");
      await mkdir(join(src, "x", "y"), { recursive: true });
      await writeFile(join(src, "top.txt"), "top");
      await writeFile(join(src, "x", "y", "deep.bin"), SMALL);
      await writeFile(join(src, "x", "skip.tmp"), "no");
      expect(await ftp.uploadDir(src, "tree/copy", { filter: (path) => !path.endsWith(".tmp") })).toBe(2);
      const tree = await ftp.walk("tree/copy");
      expect(tree.map((e) => `${e.type} ${e.relativePath}`).sort()).toEqual([
        "dir x",
        "dir x/y",
        "file top.txt",
        "file x/y/deep.bin",
      ]);
      const deep = tree.find((e) => e.relativePath === "x/y/deep.bin");
      expect(deep?.path).toBe("tree/copy/x/y/deep.bin");
      expect(deep?.size).toBe(SMALL.length);
      expect(tree.findIndex((e) => e.relativePath === "x")).toBeLessThan(
        tree.findIndex((e) => e.relativePath === "x/y"),
      );
      const back = join(tmp, "tree-back");
      expect(await ftp.downloadDir("tree/copy", back)).toBe(2);
      expect(await readFile(join(back, "top.txt"), "utf8")).toBe("top");
      expect(sha256(await readFile(join(back, "x", "y", "deep.bin")))).toBe(sha256(SMALL));
      await ftp.removeDir("tree");
      expect((await ftp.list()).some((e) => e.name === "tree")).toBe(false);
    });

    it("makes, enters, leaves and removes directories", async () => {
      const made = await ftp.mkd("sub dir");
      expect(made).toMatch(/sub dir$/);
      expect(await ftp.cwd("sub dir")).toMatch(/^250/);
      expect(await ftp.pwd()).toBe(`${base}/sub dir`);
      expect(await ftp.cwd("..")).toMatch(/^2/);
      expect(await ftp.pwd()).toBe(base);
      expect(await ftp.rmd("sub dir")).toMatch(/^250/);
      await expect(ftp.cwd("sub dir")).rejects.toBeInstanceOf(ErrorPerm);
    });

    it("renames, sizes and deletes files", async () => {
      await ftp.storBinary("STOR before.bin", SMALL);
      expect(await ftp.rename("before.bin", "after.bin")).toMatch(/^250/);
      expect(await ftp.size("after.bin")).toBe(SMALL.length);
      expect(await ftp.delete("after.bin")).toMatch(/^250/);
      await expect(ftp.size("after.bin")).rejects.toBeInstanceOf(ErrorPerm);
      await expect(ftp.delete("after.bin")).rejects.toBeInstanceOf(ErrorPerm);
    });

    it("keeps UTF-8 names intact", async () => {
      const name = "héllo wörld 世界 😀.txt";
      await ftp.storBinary(`STOR ${name}`, SMALL);
      expect((await ftp.nlst()).map((n) => n.replace(/^.*\//, ""))).toContain(name);
      expect(sha256(await readFile(join(local, name)))).toBe(sha256(SMALL));
      expect(sha256(await download(ftp, name))).toBe(sha256(SMALL));
      await mkdir(join(local, "répertoire"), { recursive: true });
      expect(await ftp.cwd("répertoire")).toMatch(/^250/);
      expect(await ftp.pwd()).toBe(`${base}/répertoire`);
      await ftp.cwd(base);
    });

    it("queues calls made while another is in flight, in order", async () => {
      const order: string[] = [];
      await Promise.all([
        ftp.pwd().then(() => order.push("pwd")),
        download(ftp, "round-trip-small.bin").then(() => order.push("retr")),
        ftp.voidCmd("NOOP").then(() => order.push("noop")),
        ftp.nlst().then(() => order.push("nlst")),
        ftp
          .voidCmd("TYPE I")
          .then(() => ftp.size("round-trip-small.bin"))
          .then(() => order.push("size")),
      ]);
      expect(order).toEqual(["pwd", "retr", "noop", "nlst", "size"]);
    });

    it("maps server errors to ftplib's classes and stays usable", async () => {
      expect(isFtpError(await ftp.sendCmd("XYZZY").catch((e: unknown) => e))).toBe(true);
      await expect(ftp.voidCmd("XYZZY")).rejects.toBeInstanceOf(ErrorPerm);
      await expect(download(ftp, "no-such-file")).rejects.toBeInstanceOf(ErrorPerm);
      await expect(ftp.cwd("no-such-dir")).rejects.toMatchObject({ replyCode: 550 });
      expect(await ftp.pwd()).toBe(base);
    });

    it("refuses CR, LF and NUL in commands before sending, and stays usable (test_exceptions)", async () => {
      for (const bad of ["echo 40\r\n0", "echo 40\n0", "echo 40\r0", "RETR a\0b"]) {
        await expect(ftp.sendCmd(bad)).rejects.toBeInstanceOf(LocalProtocolError);
      }
      await expect(ftp.delete("x\r\nDELE round-trip-small.bin")).rejects.toBeInstanceOf(LocalProtocolError);
      await ftp.voidCmd("TYPE I");
      expect(await ftp.size("round-trip-small.bin")).toBe(SMALL.length);
      expect(await ftp.voidCmd("NOOP")).toMatch(/^200/);
    });

    it("refuses lines longer than maxline in text transfers (test_retrlines_too_long, test_storlines_too_long)", async () => {
      await writeFile(join(local, "long.txt"), `${"x".repeat(ftp.maxline * 2)}\r\n`);
      await expect(ftp.retrLines("RETR long.txt", () => undefined)).rejects.toBeInstanceOf(ErrorProto);
      await expect(ftp.storLines("STOR long-up.txt", "y".repeat(ftp.maxline * 2))).rejects.toBeInstanceOf(FtpError);
      expect(await ftp.pwd()).toBe(base);
    });

    it("gives a transfer's connection and its reply to the caller (ntransferCmd, transferCmd, voidResp)", async () => {
      await ftp.voidCmd("TYPE I");
      const [conn, size] = await ftp.ntransferCmd("RETR round-trip-small.bin");
      expect(size === null || size === SMALL.length).toBe(true);
      const parts: Buffer[] = [];
      for (let chunk = await conn.read(); chunk !== null; chunk = await conn.read()) parts.push(Buffer.from(chunk));
      conn.destroy();
      expect(await ftp.voidResp()).toMatch(/^226/);
      expect(sha256(Buffer.concat(parts))).toBe(sha256(SMALL));
      const upload = await ftp.transferCmd("STOR manual.bin");
      await upload.write(SMALL);
      await upload.end();
      expect(await ftp.voidResp()).toMatch(/^2/);
      expect(sha256(await readFile(join(local, "manual.bin")))).toBe(sha256(SMALL));
    });

    it("publishes ftplib.sendcmd with passwords masked", async () => {
      const seen: string[] = [];
      const listener = (message: unknown) => seen.push((message as { command: string }).command);
      subscribe("ftplib.sendcmd", listener);
      try {
        await ftp.voidCmd("NOOP");
        await ftp.sendCmd("PASS hunter2").catch(() => undefined);
      } finally {
        unsubscribe("ftplib.sendcmd", listener);
      }
      expect(seen).toContain("NOOP");
      expect(seen.join(" ")).not.toContain("hunter2");
    });

    it("quits", async () => {
      expect(await ftp.quit()).toMatch(/^221/);
      await expect(ftp.pwd()).rejects.toBeInstanceOf(FtpConnectionError);
    });
  });
}

/**
 * Defines the suite against an embedded server started once for both modes: the target's
 * fields are read when the tests run, after the server started.
 */
export function defineEmbeddedSuites(
  host: string,
  start: () => Promise<{
    host: string;
    port: number;
    root: string;
    user: string;
    password: string;
    close(): Promise<void>;
  }>,
  target: Pick<SuiteTarget, "server" | "open" | "quirks">,
): void {
  let server: Awaited<ReturnType<typeof start>> | undefined;
  beforeAll(async () => {
    server = await start();
  });
  afterAll(() => server?.close());
  const current = () => server!;
  for (const passive of [true, false]) {
    defineClientSuite({
      ...target,
      family: host.includes(":") ? "IPv6" : "IPv4",
      passive,
      get host() {
        return current().host;
      },
      get port() {
        return current().port;
      },
      get root() {
        return current().root;
      },
      get user() {
        return current().user;
      },
      get password() {
        return current().password;
      },
    });
  }
}
