import { packageConfig } from "@ftplib/vitest-config";

export default packageConfig("cli", { testTimeout: 60_000, hookTimeout: 60_000 });
