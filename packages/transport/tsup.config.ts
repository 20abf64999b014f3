import { defineConfig } from "tsup";
import { libraryBuild } from "../../tooling/tsup-config/index.ts";

export default defineConfig(libraryBuild());
