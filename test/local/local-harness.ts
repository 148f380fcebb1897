/**
 * The real scheduler on the local cluster (real processes) with a SQLite store in a temporary
 * data directory, and the clean-up that kills every task process the test left behind. The
 * temporary data directories are removed after the test file, their processes killed first.
 */
import { existsSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import pino from "pino";
import { CryptoRandom, SystemClock } from "../../src/adapters/clock.js";
import { LocalCluster } from "../../src/adapters/cluster/local/local-cluster.js";
import { SqlitePersister } from "../../src/adapters/persister/sqlite-persister.js";
import { DEFAULT_RUNNER_OPTIONS, MultiServiceScheduler } from "../../src/engine/scheduler.js";
import { tempDir } from "../use-temp-dir.js";

export interface LocalRun {
  readonly dataDir: string;
  readonly cluster: LocalCluster;
  readonly scheduler: MultiServiceScheduler;
  stop(): Promise<void>;
}

/**
 * A new data directory `<tmpdir>/corral-<kind>-<run tag>-XXXXXX`, removed after the test file
 * once every process of it is killed (killEverything, then any process still working in it).
 */
export function tempDataDir(kind = "local"): string {
  return tempDir(kind, {
    beforeRemove: async (dir) => {
      await killEverything(dir);
      await killProcessesIn(dir);
    },
  });
}

export async function startLocal(dataDir: string, options: { agents?: number; canSwitchUser?: boolean } = {}): Promise<LocalRun> {
  const clock = new SystemClock();
  const random = new CryptoRandom();
  const log = pino({ level: "silent" });
  const persister = SqlitePersister.open(join(dataDir, "corral.db"));
  const cluster = new LocalCluster({
    dataDir,
    agents: options.agents ?? 1,
    machine: { hostname: "localhost", cpus: 4, memMb: 8192, diskMb: 10240, ports: { begin: 31000, end: 31999 } },
    clock,
    random,
    log,
    taskPath: process.env["PATH"] ?? "/usr/bin:/bin",
    canSwitchUser: options.canSwitchUser ?? false,
    pollMs: 50,
  });
  const scheduler = new MultiServiceScheduler(
    { persister, driver: cluster, clock, random, log },
    { ...DEFAULT_RUNNER_OPTIONS, framework: { name: "corral", role: "corral-role", principal: "corral-principal" } },
  );
  await scheduler.start();
  return {
    dataDir,
    cluster,
    scheduler,
    async stop() {
      await scheduler.stop();
      await cluster.close();
      await persister.close();
    },
  };
}

/** Polls `check` until it returns a value that is not undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => T | undefined | false, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/** Kills every supervisor and task process of a data directory, waiting out a supervisor that is still spawning its task. */
export async function killEverything(dataDir: string): Promise<void> {
  const sandboxes = join(dataDir, "local", "sandboxes");
  if (!existsSync(sandboxes)) return;
  const killed: number[] = [];
  for (const id of readdirSync(sandboxes)) {
    const dir = join(sandboxes, id);
    const read = <T>(name: string): T | undefined => (existsSync(join(dir, name)) ? (JSON.parse(readFileSync(join(dir, name), "utf8")) as T) : undefined);
    const spawned = read<{ pid: number }>("spawn.json");
    if (!spawned) continue;
    const deadline = Date.now() + 5000;
    let sup = read<{ supervisorPid: number; taskPid?: number }>("supervisor.json");
    while (sup?.taskPid === undefined && !existsSync(join(dir, "exit.json")) && isAlive(spawned.pid) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      sup = read("supervisor.json");
    }
    for (const pid of [sup?.taskPid !== undefined ? -sup.taskPid : undefined, spawned.pid]) {
      try {
        if (pid !== undefined) process.kill(pid, "SIGKILL");
      } catch {
        // gone already
      }
    }
    if (sup?.taskPid !== undefined) killed.push(sup.taskPid);
    killed.push(spawned.pid);
  }
  await waitDead(killed);
}

/** Waits (up to 5 s) until the processes are gone: a dying process may still be writing. */
async function waitDead(pids: readonly number[]): Promise<void> {
  const deadline = Date.now() + 5000;
  while (pids.some(isAlive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

/**
 * Kills (SIGKILL) every other process whose working directory or command line is inside `dir`
 * (a supervisor spawned just before its scheduler died, before it noted its pid), and waits
 * until they are gone. Linux /proc; elsewhere a no-op.
 */
export async function killProcessesIn(dir: string): Promise<void> {
  const inside = (p: string): boolean => p === dir || p.startsWith(`${dir}/`);
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid);
  } catch {
    return;
  }
  const found: number[] = [];
  for (const p of pids) {
    try {
      const cwd = readlinkSync(`/proc/${p}/cwd`);
      const cmd = readFileSync(`/proc/${p}/cmdline`, "utf8").split("\0");
      if (inside(cwd) || cmd.some((a) => inside(a) || a.includes(`${dir}/`))) found.push(Number(p));
    } catch {
      // gone, or not ours to read
    }
  }
  for (const pid of found) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone already
    }
  }
  await waitDead(found);
}
