import { packageConfig } from "@ftplib/vitest-config";

export default packageConfig("integration");
