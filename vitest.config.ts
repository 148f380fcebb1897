import { defineConfig } from "vitest/config";

const timeouts = { testTimeout: 30_000, hookTimeout: 30_000 };

export default defineConfig({
  test: {
    // Tags the run and checks, after it, that the tests left nothing in the system temp dir.
    globalSetup: ["test/global-setup.ts"],
    // Two files at a time (vitest's default is one on 2 cores): most files wait on real processes
    // (ZooKeeper, schedulers, the agent), each in its own temp dir on ports of its own.
    maxWorkers: 2,
    projects: [
      {
        test: {
          name: "corral",
          include: ["src/**/*.test.ts", "test/**/*.test.ts"],
          exclude: ["dist/**", "node_modules/**", "test/last/**"],
          ...timeouts,
        },
      },
      {
        // After every other file (groupOrder): checks for temp entries the run left behind.
        test: {
          name: "last",
          include: ["test/last/**/*.test.ts"],
          sequence: { groupOrder: 1 },
          ...timeouts,
        },
      },
    ],
  },
});
