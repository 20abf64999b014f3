// A simulated slow link for benches and tests: see src/forwarder.js.
export { SlowLink } from "./src/forwarder.js";
export { DelayLine } from "./src/delay-line.js";
export { CommandCounter } from "./src/command-counter.js";
export { parsePassiveReply, rewritePassiveReply } from "./src/passive-reply.js";
