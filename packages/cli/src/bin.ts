/** The `ftplib` binary. Ctrl-C stops the transfer cleanly (ABOR, partial files removed, then QUIT); a second one ends at once. */
import { main } from "./run.js";

const interrupt = new AbortController();
process.on("SIGINT", () => {
  if (interrupt.signal.aborted) process.exit(130);
  interrupt.abort(new DOMException("interrupted", "AbortError"));
});
// A reader that went away (`ftplib cat ... | head`) is not an error worth a stack trace.
process.stdout.on("error", () => undefined);

process.exitCode = await main(process.argv.slice(2), undefined, interrupt.signal);
