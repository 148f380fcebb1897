/**
 * What is really on the machine for one data directory of the local cluster: the supervisor and
 * task processes (found in /proc, not trusted from any file the scheduler wrote), the sandboxes,
 * the volume directories and the reservations the cluster saved in cluster.json. And the
 * clean-up that kills every process of a data directory.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export interface LiveProcess {
  readonly pid: number;
  readonly kind: "supervisor" | "task";
  /** The task the process belongs to (its sandbox's name, or MESOS_TASK_ID). */
  readonly taskId: string;
}

export interface Reservation {
  readonly agentId: string;
  readonly namespace: string | undefined;
  readonly persistenceId: string | undefined;
}

export interface LocalWorld {
  readonly processes: readonly LiveProcess[];
  /** Task IDs that have a sandbox directory. */
  readonly sandboxes: readonly string[];
  /** `<agentId>/<persistenceId>` of every volume directory. */
  readonly volumes: readonly string[];
  readonly reservations: readonly Reservation[];
}

/** `svc__pod-0-task__uuid` → `svc__pod-0-task`. */
export function taskName(taskId: string): string {
  const i = taskId.lastIndexOf("__");
  return i < 0 ? taskId : taskId.slice(0, i);
}

/** `svc__pod-0-task__uuid` → `svc` (sanitized service name). */
export function taskService(taskId: string): string {
  return taskId.split("__")[0] ?? taskId;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

function isZombie(pid: number): boolean {
  const stat = readText(`/proc/${pid}/stat`);
  return stat === undefined || stat.slice(stat.lastIndexOf(")") + 2)[0] === "Z";
}

/** Every process of `dataDir`'s local cluster: supervisors by their command line, tasks by their environment. */
export function localProcesses(dataDir: string): LiveProcess[] {
  const sandboxes = join(dataDir, "local", "sandboxes") + "/";
  const out: LiveProcess[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    const cmdline = readText(`/proc/${pid}/cmdline`)?.split("\0") ?? [];
    const supervisorArg = cmdline.findIndex((a) => a.endsWith("supervisor.mjs"));
    const sandboxArg = supervisorArg >= 0 ? cmdline[supervisorArg + 1] : undefined;
    if (sandboxArg !== undefined && sandboxArg.startsWith(sandboxes)) {
      if (!isZombie(pid)) out.push({ pid, kind: "supervisor", taskId: sandboxArg.slice(sandboxes.length).replace(/\/+$/, "") });
      continue;
    }
    const environ = readText(`/proc/${pid}/environ`);
    if (environ === undefined || !environ.includes(`MESOS_SANDBOX=${sandboxes}`)) continue;
    const taskId = environ.split("\0").find((v) => v.startsWith("MESOS_TASK_ID="))?.slice("MESOS_TASK_ID=".length);
    if (taskId !== undefined && !isZombie(pid)) out.push({ pid, kind: "task", taskId });
  }
  return out;
}

interface SavedCluster {
  readonly agents?: readonly { readonly id: string; readonly reserved: readonly SavedResource[] }[];
}

interface SavedResource {
  readonly reservations?: readonly { readonly labels?: Record<string, string> }[];
  readonly disk?: { readonly persistence?: { readonly id: string } };
}

export function localWorld(dataDir: string): LocalWorld {
  const root = join(dataDir, "local");
  const list = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir) : []);
  const volumes = list(join(root, "volumes")).flatMap((agent) => list(join(root, "volumes", agent)).map((id) => `${agent}/${id}`));
  const text = readText(join(root, "cluster.json"));
  const saved = text === undefined ? {} : (JSON.parse(text) as SavedCluster);
  const reservations = (saved.agents ?? []).flatMap((a) =>
    a.reserved.map((r) => ({
      agentId: a.id,
      namespace: r.reservations?.at(-1)?.labels?.["namespace"],
      persistenceId: r.disk?.persistence?.id,
    })),
  );
  return { processes: localProcesses(dataDir), sandboxes: list(join(root, "sandboxes")), volumes, reservations };
}

/**
 * Kills every supervisor and task process of `dataDir` (task process groups included), until
 * none is left or `timeoutMs` passed. Returns how many processes it signalled.
 */
export async function killLocalProcesses(dataDir: string, timeoutMs = 5000): Promise<number> {
  let signalled = 0;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const procs = localProcesses(dataDir);
    if (procs.length === 0 || Date.now() > deadline) return signalled;
    for (const p of procs) {
      for (const target of [-p.pid, p.pid]) {
        try {
          process.kill(target, "SIGKILL");
          signalled++;
        } catch {
          // not a group leader, or gone already
        }
      }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
