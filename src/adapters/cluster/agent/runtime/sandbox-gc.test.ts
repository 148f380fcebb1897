/**
 * Garbage collection of ended sandboxes by age and by total size, and copy-truncate rotation
 * that never follows what a task planted; sandboxes are made by hand, time is a FakeClock.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Logger } from "../../../../engine/ports.js";
import { tempDir } from "../../../../../test/use-temp-dir.js";
import { FakeClock } from "../../../fake-clock.js";
import type { SimAgent } from "../../sim-agent.js";
import type { SimTask } from "../../sim-tasks.js";
import { LocalAgentRuntime } from "./agent-runtime.js";
import { rotateOutputs } from "./log-rotation.js";
import { bootId, procStart } from "./proc.js";

const quiet: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {}, child: () => quiet };
const HOUR = 3600_000;

function setup(maxAgeMs: number, maxBytes: number) {
  const root = tempDir("agent-gc");
  const clock = new FakeClock(Date.now());
  const runtime = new LocalAgentRuntime({ root, clock, log: quiet, taskPath: "/bin", canSwitchUser: false, report: () => {}, sandboxMaxAgeMs: maxAgeMs, sandboxMaxBytes: maxBytes });
  /** An ended sandbox: its wrapper (of another boot) is gone, its exit file written `agoMs` ago. */
  const ended = (id: string, agoMs: number, bytes: number, record: object = { pid: 1, procStart: "1", bootId: "another-boot", namespaces: [] }): string => {
    const dir = join(root, "sandboxes", id);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "task.json"), JSON.stringify(record));
    writeFileSync(join(dir, "stdout"), Buffer.alloc(bytes));
    writeFileSync(join(dir, "exit"), "0");
    const at = (clock.now() - agoMs) / 1000;
    utimesSync(join(dir, "exit"), at, at);
    return dir;
  };
  const left = (): string[] => readdirSync(join(root, "sandboxes")).sort();
  return { root, clock, runtime, ended, left };
}

function queuedTask(taskId: string): SimTask {
  return {
    info: { name: "t", taskId, agentId: "a", resources: [], command: { value: "true", environment: {} }, labels: {} },
    executor: { executorId: "e" } as SimTask["executor"],
    agent: {} as SimAgent,
    frameworkId: "f",
    group: 1,
    peers: [],
    script: {},
    state: "TASK_STAGING",
    lastSent: undefined,
    killing: false,
    timers: [],
  };
}

describe("sandbox garbage collection", () => {
  it("removes sandboxes ended longer ago than the age limit, leaving live ones and volumes alone", async () => {
    const { root, runtime, ended, left } = setup(24 * HOUR, 1 << 30);
    const volume = join(root, "volumes", "a", "vol-1");
    mkdirSync(volume, { recursive: true });
    writeFileSync(join(volume, "data"), "keep me");
    const old = ended("old", 8 * 24 * HOUR, 10);
    symlinkSync(volume, join(old, "data"));
    ended("recent", HOUR, 10);
    // A process that still runs (this one), however old its files look.
    ended("running", 30 * 24 * HOUR, 10, { pid: process.pid, procStart: procStart(process.pid), bootId: bootId(), namespaces: [] });
    // A task the runtime is about to start.
    ended("queued", 30 * 24 * HOUR, 10);
    runtime.start(queuedTask("queued"));

    await expect(runtime.collectGarbage()).resolves.toEqual(["old"]);
    expect(left()).toEqual(["queued", "recent", "running"]);
    expect(readFileSync(join(volume, "data"), "utf8")).toBe("keep me");
  });

  it("removes the oldest ended sandboxes while they take more than the size limit, on the periodic sweep", async () => {
    const { clock, runtime, ended, left } = setup(24 * HOUR, 1100); // each sandbox also holds ~65 bytes of task.json and exit
    ended("a", 3 * HOUR, 600);
    ended("b", 2 * HOUR, 600);
    ended("c", HOUR, 300);
    ended("live", 4 * HOUR, 5000, { pid: process.pid, procStart: procStart(process.pid), bootId: bootId(), namespaces: [] });
    runtime.startQueued(); // arms the sweeps
    clock.advance(60_000);
    for (let i = 0; i < 200 && left().includes("a"); i++) await new Promise((r) => setTimeout(r, 5));
    expect(left()).toEqual(["b", "c", "live"]); // ~1030 bytes of ended sandboxes left; a live one is not counted against them
    runtime.close();
  });
});

describe("output rotation", () => {
  it("copies and truncates a file past the cap and keeps one old copy", async () => {
    const dir = tempDir("agent-rot");
    writeFileSync(join(dir, "stdout"), "x".repeat(2000));
    writeFileSync(join(dir, "stdout.1"), "older");
    writeFileSync(join(dir, "stderr"), "small");
    await expect(rotateOutputs(dir, 1000)).resolves.toEqual(["stdout"]);
    expect(readFileSync(join(dir, "stdout.1"), "utf8")).toBe("x".repeat(2000));
    expect(statSync(join(dir, "stdout")).size).toBe(0);
    expect(readFileSync(join(dir, "stderr"), "utf8")).toBe("small");
  });

  it("neither follows a symlink the task planted nor writes through one", async () => {
    const dir = tempDir("agent-rot");
    const outside = join(tempDir("agent-rot"), "precious");
    writeFileSync(outside, "y".repeat(2000));
    symlinkSync(outside, join(dir, "stdout"));
    writeFileSync(join(dir, "stderr"), "z".repeat(2000));
    symlinkSync(outside, join(dir, "stderr.1"));
    await expect(rotateOutputs(dir, 1000)).resolves.toEqual([]);
    expect(readFileSync(outside, "utf8")).toBe("y".repeat(2000));
    expect(statSync(join(dir, "stderr")).size).toBe(2000);
    expect(existsSync(join(dir, "stdout.1"))).toBe(false);
  });
});
