import { packageConfig } from "@ftplib/vitest-config";

export default packageConfig("slow-link", { include: ["test/**/*.test.ts"] });
