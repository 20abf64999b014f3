import { defineConfig } from "tsup";
import { libraryBuild } from "@ftplib/tsup-config";

export default defineConfig(libraryBuild());
