/**
 * Resource limits (`TaskInfo.limits`) through Linux cgroups: each limited task gets a cgroup
 * `corral/<task id>` (v1: one per controller, memory and cpu; v2: one in the unified tree) with
 * its memory limit (MB) and its cpu quota (cpus × the period), and the task's wrapper is moved
 * in before its command runs (the wrapper waits for the agent's go, wrapper.ts), so everything
 * the command starts is inside. An unlimited task (no limits, or Infinity) gets no cgroup. The
 * cgroup goes when the task has ended and its processes are gone.
 */
import { accessSync, constants, existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { TaskInfo } from "../../../../domain/cluster.js";

const ROOT = "/sys/fs/cgroup";
/** The CFS period for cpu quotas (µs), Mesos' default. */
const CPU_PERIOD_US = 100_000;
/** Below this quota the kernel refuses it (µs). */
const MIN_QUOTA_US = 1000;

type Layout = { readonly version: 1; readonly memory: string; readonly cpu: string } | { readonly version: 2; readonly dir: string };

let probed: { readonly ok: boolean; readonly why?: string; readonly layout?: Layout } | undefined;

/** Whether this agent can put tasks into cgroups (probed once): root, and a v1 memory+cpu or a v2 tree. */
export function cgroupSupport(): { ok: boolean; why?: string } {
  probed ??= probe();
  return probed.why === undefined ? { ok: probed.ok } : { ok: probed.ok, why: probed.why };
}

function probe(): { ok: boolean; why?: string; layout?: Layout } {
  if (process.platform !== "linux") return { ok: false, why: "cgroups are Linux only" };
  if (process.getuid?.() !== 0) return { ok: false, why: "the agent does not run as root" };
  try {
    const layout = existsSync(join(ROOT, "cgroup.controllers")) ? probeV2() : probeV1();
    return { ok: true, layout };
  } catch (err) {
    return { ok: false, why: (err as Error).message };
  }
}

function probeV1(): Layout {
  const memory = join(ROOT, "memory", "corral");
  const cpu = join(ROOT, "cpu", "corral");
  if (!existsSync(join(ROOT, "memory", "memory.limit_in_bytes"))) throw new Error("no cgroup v1 memory controller at /sys/fs/cgroup/memory");
  if (!existsSync(join(ROOT, "cpu", "cpu.cfs_quota_us"))) throw new Error("no cgroup v1 cpu controller at /sys/fs/cgroup/cpu");
  for (const dir of [memory, cpu]) {
    mkdirSync(dir, { recursive: true });
    accessSync(join(dir, "cgroup.procs"), constants.W_OK);
  }
  return { version: 1, memory, cpu };
}

function probeV2(): Layout {
  const controllers = readFileSync(join(ROOT, "cgroup.controllers"), "utf8").split(/\s+/);
  for (const c of ["memory", "cpu"]) if (!controllers.includes(c)) throw new Error(`the cgroup v2 tree has no ${c} controller`);
  const dir = join(ROOT, "corral");
  mkdirSync(dir, { recursive: true });
  // Children of a v2 cgroup get a controller only when their parent hands it down.
  for (const parent of [ROOT, dir]) enableControllers(join(parent, "cgroup.subtree_control"));
  return { version: 2, dir };
}

function enableControllers(subtreeControl: string): void {
  const enabled = readFileSync(subtreeControl, "utf8").split(/\s+/);
  if (!enabled.includes("memory") || !enabled.includes("cpu")) writeFileSync(subtreeControl, "+memory +cpu");
}

/** The task's limits that are finite: what its cgroup enforces. */
export function finiteLimits(info: TaskInfo): { readonly cpus?: number; readonly mem?: number } | undefined {
  const cpus = info.limits?.cpus;
  const mem = info.limits?.mem;
  const out = {
    ...(typeof cpus === "number" && Number.isFinite(cpus) && cpus > 0 ? { cpus } : {}),
    ...(typeof mem === "number" && Number.isFinite(mem) && mem > 0 ? { mem } : {}),
  };
  return Object.keys(out).length > 0 ? out : undefined;
}

/** The directories of a task's cgroup (one per v1 controller); empty when cgroups are unsupported. */
export function taskCgroupDirs(taskId: string): string[] {
  const layout = (probed ??= probe()).layout;
  if (!layout) return [];
  return layout.version === 1 ? [join(layout.memory, taskId), join(layout.cpu, taskId)] : [join(layout.dir, taskId)];
}

/**
 * Creates the task's cgroup with its limits; returns its directories (where the wrapper's pid
 * goes), or undefined when the task is unlimited or cgroups are unsupported (the scheduler
 * warned at put time). Throws when the cgroup cannot be set up.
 */
export function createTaskCgroup(info: TaskInfo): string[] | undefined {
  const limits = finiteLimits(info);
  const layout = (probed ??= probe()).layout;
  if (!limits || !layout) return undefined;
  const dirs = taskCgroupDirs(info.taskId);
  for (const dir of dirs) mkdirSync(dir, { recursive: true });
  const memBytes = limits.mem === undefined ? undefined : String(Math.round(limits.mem * 1024 * 1024));
  const quota = limits.cpus === undefined ? undefined : Math.max(MIN_QUOTA_US, Math.round(limits.cpus * CPU_PERIOD_US));
  if (layout.version === 1) {
    const [memory, cpu] = dirs as [string, string];
    if (memBytes !== undefined) writeFileSync(join(memory, "memory.limit_in_bytes"), memBytes);
    if (quota !== undefined) {
      writeFileSync(join(cpu, "cpu.cfs_period_us"), String(CPU_PERIOD_US));
      writeFileSync(join(cpu, "cpu.cfs_quota_us"), String(quota));
    }
  } else {
    const [dir] = dirs as [string];
    if (memBytes !== undefined) writeFileSync(join(dir, "memory.max"), memBytes);
    if (quota !== undefined) writeFileSync(join(dir, "cpu.max"), `${quota} ${CPU_PERIOD_US}`);
  }
  return dirs;
}

/** Moves `pid` (the task's wrapper, before it runs the command) into the cgroup. */
export function attachToCgroup(dirs: readonly string[], pid: number): void {
  for (const dir of dirs) writeFileSync(join(dir, "cgroup.procs"), String(pid));
}

/** Whether the kernel killed a process of the task's cgroup for going over its memory limit. */
export function cgroupOomKilled(taskId: string): boolean {
  const layout = (probed ??= probe()).layout;
  if (!layout) return false;
  try {
    if (layout.version === 1) return /^oom_kill [1-9]/m.test(readFileSync(join(layout.memory, taskId, "memory.oom_control"), "utf8"));
    return /^oom_kill [1-9]/m.test(readFileSync(join(layout.dir, taskId, "memory.events"), "utf8"));
  } catch {
    return false;
  }
}

/**
 * Removes the task's cgroup once its processes are gone: rmdir fails (EBUSY) while one is
 * still dying, so it is tried again a few times. A cgroup that does not exist is fine.
 */
export function removeTaskCgroup(taskId: string, onError: (err: Error) => void, attempts = 50): void {
  const left = taskCgroupDirs(taskId).filter((dir) => !tryRmdir(dir, attempts <= 1 ? onError : undefined));
  if (left.length === 0 || attempts <= 1) return;
  // The task has ended: whatever still runs in its cgroup left the process group (setsid, a
  // daemon) and would keep the cgroup, and itself, alive. The cgroup knows it: end it too.
  for (const dir of left) killMembers(dir);
  setTimeout(() => removeTaskCgroup(taskId, onError, attempts - 1), 100).unref();
}

function killMembers(dir: string): void {
  let text: string;
  try {
    text = readFileSync(join(dir, "cgroup.procs"), "utf8");
  } catch {
    return;
  }
  for (const pid of text.split("\n").map(Number)) {
    if (!Number.isInteger(pid) || pid <= 1) continue;
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone already
    }
  }
}

function tryRmdir(dir: string, onError: ((err: Error) => void) | undefined): boolean {
  try {
    rmdirSync(dir);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return true;
    onError?.(err as Error);
    return false;
  }
}
