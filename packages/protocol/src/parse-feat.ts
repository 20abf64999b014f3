import type { Reply } from "./reply.js";
import { replyTextFor } from "./reply-errors.js";

/**
 * The features of a 211 reply to FEAT (RFC 2389), by upper-cased name, each with its parameters
 * (`MLST` gives `"type*;size*;modify*;"`, `UTF8` gives `""`). A single-line 211 gives none.
 * Throws {@link ErrorReply} for another code.
 *
 * @returns the features, by upper-cased name.
 */
export function parseFeat(resp: Reply | string): Map<string, string> {
  const lines = replyTextFor(resp, 211).split("\n");
  const features = new Map<string, string>();
  // The first and last lines are the 211 frame; the features are the lines between.
  for (const line of lines.slice(1, -1)) {
    const feature = line.trim();
    if (feature === "") continue;
    const space = feature.indexOf(" ");
    const name = (space < 0 ? feature : feature.slice(0, space)).toUpperCase();
    features.set(name, space < 0 ? "" : feature.slice(space + 1).trim());
  }
  return features;
}
