/**
 * The scheduler as its own process (`node --import tsx src/main.ts`), as a user runs it: its
 * address is read from the "corral is serving" log line.
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { Status, createAdminClient } from "../../src/client/index.js";
import { sandboxIds, sandboxOf } from "../local/agent-world.js";

export const ROOT = new URL("../..", import.meta.url).pathname;

export interface SchedulerProcess {
  readonly child: ChildProcess;
  readonly address: string;
  readonly exited: Promise<number | null>;
  /** Log lines (pino JSON) seen so far. */
  readonly log: Record<string, unknown>[];
}

const started: ChildProcess[] = [];

/** Kills every scheduler process a test started and left running. */
export function killSchedulers(): void {
  for (const c of started.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
}

export async function startScheduler(dataDir: string, extraArgs: readonly string[] = [], env: NodeJS.ProcessEnv = {}): Promise<SchedulerProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts", "--listen", "127.0.0.1:0", "--data-dir", dataDir, ...extraArgs], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, ...env },
  });
  started.push(child);
  const log: Record<string, unknown>[] = [];
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const address = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on("line", (line) => {
      const entry = JSON.parse(line) as Record<string, unknown>;
      log.push(entry);
      if (entry["msg"] === "corral is serving" && typeof entry["address"] === "string") resolve(entry["address"]);
    });
    child.on("exit", (code) => reject(new Error(`scheduler exited with ${code} before serving`)));
  });
  return { child, address, exited, log };
}

/** A scheduler process expected to stop by itself (a refused start): its exit code and stderr. */
export async function runToEnd(args: readonly string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts", ...args], { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  return { code, stderr };
}

/** Polls GetPlan until `plan` is COMPLETE; returns its task ids, sorted. */
export async function completedTaskIds(address: string, name: string, plan = "deploy", timeoutMs = 60_000): Promise<string[]> {
  const client = createAdminClient({ address, defaultDeadlineMs: 5000 });
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { plan: p } = await client.getPlan({ name, plan });
      if (p?.status === Status.COMPLETE) return p.phases.flatMap((ph) => ph.steps.flatMap((s) => s.taskIds)).sort();
      if (Date.now() > deadline) throw new Error(`${plan} of ${name} did not complete`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    client.close();
  }
}

/** Task id → task pid (its wrapper, the process group leader), from the agent's task.json files. */
export function taskPids(dataDir: string): Map<string, number> {
  return new Map(
    sandboxIds(dataDir).flatMap((id) => {
      const file = join(sandboxOf(dataDir, id)!, "task.json");
      return existsSync(file) ? [[id, (JSON.parse(readFileSync(file, "utf8")) as { pid: number }).pid] as const] : [];
    }),
  );
}

/** How a scheduler run that was expected to end by itself ended. */
export interface SchedulerExit {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the scheduler process (same command and flags as startScheduler) to its end: for runs
 * that exit by themselves — a refused start, `--restore-backup`, `--list-backups`. Killed
 * (SIGKILL, code null) when still running after `timeoutMs`.
 */
export async function runSchedulerToExit(dataDir: string, extraArgs: readonly string[] = [], timeoutMs = 30_000): Promise<SchedulerExit> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts", "--listen", "127.0.0.1:0", "--data-dir", dataDir, ...extraArgs], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  started.push(child);
  let stdout = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8").on("data", (s: string) => (stdout += s));
  child.stderr!.setEncoding("utf8").on("data", (s: string) => (stderr += s));
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)));
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** SIGTERM, then the exit code (0 after a clean stop). */
export async function stopScheduler(s: SchedulerProcess): Promise<number | null> {
  s.child.kill("SIGTERM");
  return s.exited;
}

/**
 * Starts the scheduler and kills it (SIGKILL) as soon as it logs a line whose `msg` matches:
 * a crash at a chosen point of its start. Resolves with the matched message once the process is
 * gone; rejects when it exits (or serves) before logging one.
 */
export async function crashSchedulerAt(dataDir: string, extraArgs: readonly string[], msg: RegExp): Promise<string> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts", "--listen", "127.0.0.1:0", "--data-dir", dataDir, ...extraArgs], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "inherit"],
  });
  started.push(child);
  const gone = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  const matched = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const text = String((JSON.parse(line) as Record<string, unknown>)["msg"]);
      if (msg.test(text)) {
        child.kill("SIGKILL");
        resolve(text);
      } else if (text === "corral is serving") reject(new Error(`the scheduler served without logging ${msg}`));
    });
    child.on("exit", (code) => reject(new Error(`scheduler exited with ${code} before logging ${msg}`)));
  });
  await gone;
  return matched;
}
