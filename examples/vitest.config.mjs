import { packageConfig } from "@ftplib/vitest-config";

export default packageConfig("examples", { include: ["test/*.test.mjs"], testTimeout: 60_000 });
