import { defineConfig } from "vitest/config";

const timeouts = { testTimeout: 30_000, hookTimeout: 30_000 };

/**
 * Files that run real processes (schedulers, the local agent and its tasks, ZooKeeper, the CLI)
 * and wait on what they do: one at a time, so no other file's load slows them into a state a
 * test did not expect to see. Everything else runs in-process on fake clocks and simulated
 * clusters, two files at a time, before them.
 */
const PROCESSES = [
  "test/e2e/**/*.test.ts",
  "**/*.e2e.test.ts",
  "test/chaos/**/*.test.ts",
  "test/zk/**/*.test.ts",
  "test/local/**/*.test.ts",
  "test/agent/**/*.test.ts",
  "test/cli/**/*.test.ts",
  "test/python/**/*.test.ts",
  "test/contract/zookeeper-*.test.ts",
  "test/contract/cluster-driver-agent.test.ts",
  "test/engine/zk-*.test.ts",
  "src/adapters/cluster/mesos/master-detector.test.ts",
];
const ALL = ["src/**/*.test.ts", "test/**/*.test.ts"];
const NEVER = ["dist/**", "node_modules/**", "test/last/**"];

export default defineConfig({
  test: {
    // Tags the run and checks, after it, that the tests left nothing in the system temp dir.
    globalSetup: ["test/global-setup.ts"],
    projects: [
      {
        test: {
          name: "in-process",
          include: ALL,
          exclude: [...NEVER, ...PROCESSES],
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
          ...timeouts,
        },
      },
      {
        test: {
          name: "processes",
          include: PROCESSES,
          exclude: NEVER,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
          ...timeouts,
        },
      },
      {
        // After every other file (groupOrder): checks for temp entries the run left behind.
        test: {
          name: "last",
          include: ["test/last/**/*.test.ts"],
          sequence: { groupOrder: 2 },
          ...timeouts,
        },
      },
    ],
  },
});
