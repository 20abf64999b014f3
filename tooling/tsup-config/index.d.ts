import type { Options } from "tsup";

/** src/index.ts built for Node 20 as ESM and CommonJS, with declarations and source maps. */
export declare function libraryBuild(overrides?: Options): Options;
