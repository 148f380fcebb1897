/**
 * What the local agent of a data directory keeps on disk, for tests that check the machine
 * itself: each framework host's checkpoint (`<data-dir>/agent/frameworks/<dir>/cluster.json`,
 * the simulated master's snapshot), its sandboxes and its volume directories. And the clean-up
 * that stops the agent and everything it runs.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { stopAgent } from "../../src/adapters/cluster/agent/daemon.js";
import type { Resource } from "../../src/domain/cluster.js";
import type { MasterSnapshot } from "../../src/adapters/cluster/sim-snapshot.js";
import { killProcessesIn } from "../processes.js";

export function agentDir(dataDir: string): string {
  return join(dataDir, "agent");
}

const list = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir) : []);

/** The framework hosts' directories. */
export function frameworkDirs(dataDir: string): string[] {
  const root = join(agentDir(dataDir), "frameworks");
  return list(root).map((d) => join(root, d));
}

/** Every framework host's saved state. */
export function savedStates(dataDir: string): MasterSnapshot[] {
  return frameworkDirs(dataDir).flatMap((d) => (existsSync(join(d, "cluster.json")) ? [JSON.parse(readFileSync(join(d, "cluster.json"), "utf8")) as MasterSnapshot] : []));
}

/** Every reserved resource the agent keeps, of every framework. */
export function reservedResources(dataDir: string): Resource[] {
  return savedStates(dataDir).flatMap((s) => s.agents.flatMap((a) => a.reserved));
}

/** Namespaces (services) that hold reservations. */
export function reservationOwners(dataDir: string): Set<string | undefined> {
  return new Set(reservedResources(dataDir).map((r) => r.reservations?.at(-1)?.labels["namespace"]));
}

/** Tasks the agent keeps (live, or ended and not yet acknowledged). */
export function savedTasks(dataDir: string): MasterSnapshot["tasks"][number][] {
  return savedStates(dataDir).flatMap((s) => s.tasks);
}

/** Task IDs that have a sandbox directory. */
export function sandboxIds(dataDir: string): string[] {
  return frameworkDirs(dataDir).flatMap((d) => list(join(d, "sandboxes")));
}

/** A task's sandbox (absolute), or undefined when it has none. */
export function sandboxOf(dataDir: string, taskId: string): string | undefined {
  return frameworkDirs(dataDir)
    .map((d) => join(d, "sandboxes", taskId))
    .find((p) => existsSync(p));
}

/** `<agentId>/<persistenceId>` of every volume directory. */
export function volumeDirs(dataDir: string): string[] {
  return frameworkDirs(dataDir).flatMap((d) => list(join(d, "volumes")).flatMap((agent) => list(join(d, "volumes", agent)).map((id) => `${agent}/${id}`)));
}

/** Stops the data directory's agent with every task it runs, then kills whatever still runs in the directory. */
export async function stopEverything(dataDir: string): Promise<void> {
  await stopAgent(agentDir(dataDir), { killTasks: true }).catch(() => false);
  await killProcessesIn(dataDir);
}

/** POST /api/v1 on the agent's socket: the operator API, as tooling reads it. */
export function operatorCall(dataDir: string, type: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const req = request(
      { socketPath: join(agentDir(dataDir), "agent.sock"), path: "/api/v1", method: "POST", headers: { "content-type": "application/json", accept: "application/json" } },
      (res) => {
        let body = "";
        res.setEncoding("utf8").on("data", (s: string) => (body += s));
        res.on("end", () => (res.statusCode === 200 ? resolve(JSON.parse(body) as Record<string, unknown>) : reject(new Error(`${type}: ${res.statusCode} ${body}`))));
      },
    );
    req.on("error", reject);
    req.end(JSON.stringify({ type }));
  });
}

/** IDs of the tasks the agent runs (GET_TASKS `tasks`, live ones), sorted. */
export async function liveTaskIds(dataDir: string): Promise<string[]> {
  const answer = (await operatorCall(dataDir, "GET_TASKS"))["get_tasks"] as { tasks?: { task_id: { value: string }; state: string }[] };
  return (answer.tasks ?? []).filter((t) => t.state === "TASK_RUNNING").map((t) => t.task_id.value).sort();
}

/**
 * What `look` returns once it equals `want` (the agent answers a call before it works on it
 * and saves its books once per turn, so its files catch up a moment after the scheduler moved
 * on), or the last look after `timeoutMs`, for the caller's assertion to show.
 */
export async function settled<T>(look: () => T, want: T, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = look();
    if (JSON.stringify(value) === JSON.stringify(want) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
}
