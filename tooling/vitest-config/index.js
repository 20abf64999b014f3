// Shared vitest settings. With FTPLIB_TEST_REPORT_DIR set (as .ci/run does), each package also
// writes a JSON report there (named after the run, FTPLIB_TEST_REPORT_NAME, and the package),
// from which CI prints one closing line for the whole repository.
import { defineConfig } from "vitest/config";

/**
 * @param {string} name the package's short name, used for its report file
 * @param {import("vitest/config").UserConfig["test"]} [test] settings to add
 */
export function packageConfig(name, test = {}) {
  const dir = process.env.FTPLIB_TEST_REPORT_DIR;
  const report = [process.env.FTPLIB_TEST_REPORT_NAME, name].filter(Boolean).join("-");
  return defineConfig({
    test: {
      include: ["src/**/*.test.ts", "test/**/*.test.ts"],
      ...(dir ? { reporters: ["default", "json"], outputFile: { json: `${dir}/${report}.json` } } : {}),
      ...test,
    },
  });
}
