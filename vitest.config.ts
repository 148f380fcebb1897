import { defineConfig } from "vitest/config";

const timeouts = { testTimeout: 30_000, hookTimeout: 30_000 };

export default defineConfig({
  test: {
    // Tags the run and checks, after it, that the tests left nothing in the system temp dir.
    globalSetup: ["test/global-setup.ts"],
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
