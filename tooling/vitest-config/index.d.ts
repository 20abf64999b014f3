import type { UserConfig } from "vitest/config";
export declare function packageConfig(name: string, test?: UserConfig["test"]): UserConfig;
