/**
 * `npm start` as a user or a process manager runs it: SIGINT or SIGTERM to npm, to the scheduler
 * process npm starts, or to the whole process group (a terminal's Ctrl-C, systemd's default
 * KillMode) drains and stops the scheduler with exit 0; afterwards the gRPC port is free and the
 * data directory's lock can be taken again (the next case's scheduler starts on the same
 * directory, after the test process itself took and released the lock).
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterEach, describe, expect, it } from "vitest";
import { acquireDataDirLock } from "../../src/adapters/file-lock.js";
import { Health, HealthCheckResponse_ServingStatus, createAdminClient, createPromiseClient } from "../../src/client/index.js";
import { duplicateKeys } from "../json-keys.js";
import { tempDir } from "../use-temp-dir.js";
import { canBind, freePort } from "./ports.js";
import { ROOT } from "./scheduler-process.js";

const dataDir = tempDir("signals");
let running: ChildProcess | undefined;

afterEach(() => {
  // A failed case leaves nothing behind: the npm process's group is npm and the scheduler.
  try {
    if (running?.pid !== undefined) process.kill(-running.pid, "SIGKILL");
  } catch {
    // the group is gone already
  }
  running = undefined;
});

interface NpmStart {
  readonly npm: ChildProcess;
  /** The scheduler's pid, as its data-directory lock names it. */
  readonly schedulerPid: number;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** stdout's JSON lines (npm's own banner lines left out). */
  readonly lines: string[];
}

/** `npm start -- …` in its own process group, once health says SERVING. */
async function npmStart(port: number): Promise<NpmStart> {
  const args = ["start", "--", "--listen", `127.0.0.1:${port}`, "--cluster", "sim", "--store", "sqlite", "--data-dir", dataDir];
  const env = { ...process.env };
  delete env["CORRAL_LOG_FORMAT"]; // stdout is a pipe: JSON lines
  const npm = spawn("npm", args, { cwd: ROOT, detached: true, stdio: ["ignore", "pipe", "inherit"], env });
  running = npm;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    npm.on("exit", (code, signal) => resolve({ code, signal })),
  );
  const lines: string[] = [];
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: npm.stdout! }).on("line", (line) => {
      if (!line.startsWith("{")) return;
      lines.push(line);
      if ((JSON.parse(line) as { msg?: string }).msg === "corral is serving") resolve();
    });
    void exited.then(({ code, signal }) => reject(new Error(`npm start ended (${code ?? signal}) before serving`)));
  });
  const health = createPromiseClient(Health, `127.0.0.1:${port}`);
  try {
    expect((await health.check({ service: "" })).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
  } finally {
    health.close();
  }
  const schedulerPid = Number(readFileSync(join(dataDir, "corral.lock.pid"), "utf8"));
  return { npm, schedulerPid, exited, lines };
}

describe("npm start and signals", () => {
  it.each([
    { to: "npm", signal: "SIGTERM" },
    { to: "npm", signal: "SIGINT" },
    { to: "the scheduler", signal: "SIGTERM" },
    { to: "the scheduler", signal: "SIGINT" },
    { to: "the process group", signal: "SIGINT" },
    { to: "the process group", signal: "SIGTERM" },
  ] as const)("$signal to $to drains, exits 0 and frees the port and the lock", async ({ to, signal }) => {
    const port = await freePort();
    const { npm, schedulerPid, exited, lines } = await npmStart(port);
    expect(schedulerPid).not.toBe(npm.pid);
    // Some calls, so the log has request lines too (the next case recovers the service).
    const admin = createAdminClient({ address: `127.0.0.1:${port}`, defaultDeadlineMs: 5000 });
    try {
      await admin.putService({ name: "simple", spec: readFileSync(join(ROOT, "examples/simple.yml"), "utf8") });
      await expect(admin.getService({ name: "nothing-here" })).rejects.toThrow();
    } finally {
      admin.close();
    }
    if (to === "npm") process.kill(npm.pid!, signal);
    else if (to === "the scheduler") process.kill(schedulerPid, signal);
    else process.kill(-npm.pid!, signal);

    expect(await exited).toEqual({ code: 0, signal: null });
    expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(expect.arrayContaining(["shutting down", "stopped"]));
    expect(lines.filter((l) => duplicateKeys(l).length > 0)).toEqual([]);
    expect(lines.some((l) => l.includes('"requestId"'))).toBe(true);
    expect(() => process.kill(schedulerPid, 0)).toThrow(); // the scheduler is gone, not orphaned
    expect(await canBind(port)).toBe(true);
    const lock = await acquireDataDirLock(dataDir);
    await lock.release();
  });
});
