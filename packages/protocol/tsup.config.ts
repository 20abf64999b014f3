import { defineConfig } from "tsup";
import { libraryBuild } from "@ftplib/tsup-config";

// Sans-IO and platform-neutral: no Node target.
export default defineConfig(libraryBuild({ target: "es2022", platform: "neutral" }));
