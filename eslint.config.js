// @ts-check
import { fileURLToPath } from "node:url";
import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["**/dist/**", "docs/api/**", "**/node_modules/**", "**/.turbo/**", "**/coverage/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    linterOptions: { reportUnusedDisableDirectives: "error" },
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: {
        // Type information for the promise rules: each package's test project (its sources and
        // tests), and one project for everything else (configs, scripts, benches, examples). The
        // packages' imports of each other resolve to their built declarations: lint after a build.
        project: ["packages/*/tsconfig.test.json", "tsconfig.eslint.json"],
        tsconfigRootDir: fileURLToPath(new URL(".", import.meta.url)),
      },
    },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/require-await": "error",
    },
  },
  {
    // The codec is sans-IO and platform-neutral: no Node module, no package, no Buffer, no timers.
    files: ["packages/protocol/src/**/*.ts"],
    ignores: ["packages/protocol/src/**/*.test.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            { regex: "^node:", message: "@ftplib/protocol must not import Node modules." },
            { regex: "^[^.]", message: "@ftplib/protocol has no runtime dependencies: import only its own files." },
          ],
        },
      ],
      "no-restricted-globals": [
        "error",
        ...[
          "Buffer",
          "process",
          "require",
          "setTimeout",
          "setInterval",
          "setImmediate",
          "queueMicrotask",
          "global",
        ].map((name) => ({ name, message: "@ftplib/protocol is sans-IO and platform-neutral." })),
      ],
    },
  },
);
