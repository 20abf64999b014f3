// Runs every example as a user would (`node examples/<name>.mjs`), against the embedded server,
// and checks what it prints.
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const dir = fileURLToPath(new URL("..", import.meta.url));

/** What each example must print (one line each, matched anywhere in its output). */
const EXPECTED = {
  "list.mjs": [
    /^Working directory: \//m,
    /^file\s+8388608 B .* image\.bin$/m,
    /^dir .* docs$/m,
    /^NLST: README, docs, image\.bin$/m,
  ],
  "download-with-progress.mjs": [
    /^100% {2}8388608 of 8388608 bytes/m,
    /^Downloaded 8388608 bytes to .*image\.bin \(8388608 bytes on disk\)$/m,
  ],
  "upload.mjs": [
    /^report\.csv: 26 bytes sent, the server has 26$/m,
    /notes-renamed\.txt, report\.csv$/m,
    /^Deleting a missing file: ErrorPerm 55\d$/m,
    /^Removed /m,
  ],
  "ftps.mjs": [
    /^Without the CA: FtpTlsError/m,
    /^Secure control connection: true, data protected: true$/m,
    /^Read back: "sent over TLS\\n"$/m,
  ],
  "pool.mjs": [
    /^Uploaded 12 files \(144000 bytes\) over 4 connections/m,
    /^Downloaded 144000 bytes back; identical: true$/m,
    /^On the server: 12 files$/m,
  ],
  "features-and-mlsd.mjs": [
    /^Features: .*MDTM.*SIZE/m,
    /^entry image\.bin: file, 8388608 bytes$/m,
    /^MDTM README: \d{4}-/m,
  ],
  "cancel-and-errors.mjs": [
    /^size of a missing file: ErrorPerm 55\d \(ERR_FTP_PERM\)$/m,
    /^download cancelled \(AbortError\) after 64 KiB or more$/m,
    /^connecting to a closed port: FtpConnectionError, isFtpError: true$/m,
  ],
};

function run(file) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (b) => (out += b));
    child.stderr.on("data", (b) => (out += b));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, out }));
  });
}

describe("examples", () => {
  const examples = readdirSync(dir).filter((f) => f.endsWith(".mjs") && f !== "vitest.config.mjs");

  it("are all checked here", () => {
    expect(examples.sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  for (const example of examples) {
    it(`${example} runs and prints what it should`, async () => {
      const { code, out } = await run(example);
      expect(code, out).toBe(0);
      for (const pattern of EXPECTED[example] ?? []) expect(out).toMatch(pattern);
    });
  }
});
