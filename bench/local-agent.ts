/**
 * (o) The local agent (issue 14): the scheduler as `npm start` runs it (`startCorral`, --cluster
 * local, SQLite in a fresh data directory) with its agent daemon, beside a floor measured in the
 * same run: the same number of `/bin/sh -c 'sleep 1000'` processes spawned directly from Node
 * and seen running (spawn event, then alive in /proc).
 *   - 50 one-task services put in parallel over gRPC → every deploy plan COMPLETE: ≤ 400 ms and ≤ 4 × floor
 *   - 500 one-task services: ≤ 4 s; their removal (500 UninstallService at once → every service
 *     gone): ≤ 2 s, then nothing left (no task the agent knows, no process in a sandbox, no reservation)
 *   - the agent's RSS growth per running task (500 tasks), beside the task's own processes: ≤ 1 MB
 *   - with --local-agents 100 and 1,000 services: offers handled per second and ACCEPT latency
 *     p50/p99 through the Mesos driver
 *   - resubscription after a dropped stream (the agent's drop_streams chaos knob), 20 times
 * Printed, never asserted. Usage: npx tsx bench/local-agent.ts
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { CryptoRandom, SystemClock } from "../src/adapters/clock.js";
import { LocalAgent } from "../src/adapters/cluster/agent/agent.js";
import { setChaos } from "../src/adapters/cluster/agent/chaos-client.js";
import { agentStatus, stopAgent } from "../src/adapters/cluster/agent/daemon.js";
import { MesosDriver } from "../src/adapters/cluster/mesos/driver.js";
import { startCorral } from "../src/app.js";
import type { Corral } from "../src/app.js";
import { createAdminClient } from "../src/client/index.js";
import { resolveOptions } from "../src/config.js";
import type { Offer } from "../src/domain/cluster.js";
import { machine, mb, ms, summarize, table, verdict } from "./stats.js";

const SPEC = `name: {{SERVICE_NAME}}
pods:
  app:
    count: 1
    tasks:
      server:
        goal: RUNNING
        cmd: sleep 1000
        cpus: 0.001
        memory: 1
`;
const name = (prefix: string, i: number): string => `${prefix}-${String(i).padStart(4, "0")}`;
const sleep = (d: number): Promise<void> => new Promise((r) => setTimeout(r, d));
const dirs: string[] = [];
/**
 * In the checkout, where `npm start` keeps ./.corral: the agent creates a sandbox per task, and
 * creating files in this machine's crowded /tmp costs many times more than in the checkout.
 */
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const tempDir = (kind: string): string => {
  const d = mkdtempSync(join(ROOT, `.bench-${kind}-`));
  dirs.push(d);
  return d;
};

// --- the floor ---------------------------------------------------------------------------------

/** Spawns n `/bin/sh -c 'sleep 1000'` detached, waits until each is alive; returns ms, then kills them. */
async function floor(n: number): Promise<number> {
  const started = performance.now();
  const children = await Promise.all(
    Array.from({ length: n }, () => {
      const child = spawn("/bin/sh", ["-c", "sleep 1000"], { detached: true, stdio: "ignore" });
      child.unref();
      return new Promise<number>((resolve, reject) => {
        child.once("spawn", () => resolve(child.pid!));
        child.once("error", reject);
      });
    }),
  );
  while (!children.every(alive)) await sleep(1);
  const elapsed = performance.now() - started;
  for (const pid of children) kill(-pid);
  return elapsed;
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

function kill(target: number): void {
  try {
    process.kill(target, "SIGKILL");
  } catch {
    // gone
  }
}

// --- the scheduler on its agent ------------------------------------------------------------------

async function startScheduler(agents: number, resources: string): Promise<{ corral: Corral; dataDir: string; agentDir: string }> {
  const dataDir = tempDir("agent");
  const agentDir = join(dataDir, "agent");
  const options = resolveOptions(
    ["--listen", "127.0.0.1:0", "--data-dir", dataDir, "--local-agents", String(agents), "--agent-resources", resources, "--log-level", "error", "--log-format", "json"],
    {},
  );
  const corral = await startCorral(options, pino({ level: "silent" }));
  return { corral, dataDir, agentDir };
}

/** Puts `names` at once over gRPC; resolves when every deploy plan is COMPLETE, with the wall time. */
async function deployAll(corral: Corral, names: readonly string[], timeoutMs = 120_000): Promise<number> {
  const client = createAdminClient({ address: corral.address, defaultDeadlineMs: 60_000 });
  try {
    const want = new Set(names);
    const started = performance.now();
    const puts = Promise.all(names.map((n) => client.putService({ name: n, spec: SPEC, parameters: {} })));
    // Polled in-process, each service's plan only until it is COMPLETE: a cheap look that
    // does not slow the scheduler it measures (listing 500 services every few ms would).
    const waiting = new Set(names);
    for (;;) {
      for (const n of waiting) {
        try {
          if (corral.scheduler.getPlan(n, "deploy").status === "COMPLETE") waiting.delete(n);
        } catch {
          // not stored yet
        }
      }
      if (waiting.size === 0) break;
      if (performance.now() - started > timeoutMs) throw new Error(`only ${want.size - waiting.size} of ${want.size} deploy plans COMPLETE after ${timeoutMs} ms`);
      await sleep(waiting.size > 100 ? 10 : 2);
    }
    const elapsed = performance.now() - started;
    await puts;
    return elapsed;
  } finally {
    client.close();
  }
}

/** Uninstalls `names` at once; resolves when none is listed any more, with the wall time. */
async function removeAll(corral: Corral, names: readonly string[], timeoutMs = 120_000): Promise<number> {
  const client = createAdminClient({ address: corral.address, defaultDeadlineMs: 60_000 });
  try {
    const gone = new Set(names);
    const started = performance.now();
    const calls = Promise.all(names.map((n) => client.uninstallService({ name: n })));
    for (;;) {
      // Gone from the scheduler's services once its removal's final write is done: a lookup,
      // where a view of each service every few ms would load the scheduler it measures.
      for (const n of gone) if (corral.scheduler.manager.get(n) === undefined) gone.delete(n);
      if (gone.size === 0) break;
      if (performance.now() - started > timeoutMs) throw new Error(`${gone.size} services still listed after ${timeoutMs} ms`);
      await sleep(gone.size > 100 ? 10 : 2);
    }
    const elapsed = performance.now() - started;
    await calls;
    return elapsed;
  } finally {
    client.close();
  }
}

/** POST /api/v1 on the agent's socket (the operator API). */
function operator(socketPath: string, type: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path: "/api/v1", method: "POST", headers: { "content-type": "application/json", accept: "application/json" } }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (s: string) => (body += s));
      res.on("end", () => (res.statusCode === 200 ? resolve(JSON.parse(body) as Record<string, unknown>) : reject(new Error(`${type}: ${res.statusCode} ${body}`))));
    });
    req.on("error", reject);
    req.end(JSON.stringify({ type }));
  });
}

/** Live tasks the agent reports, and reserved resources on its agents. */
async function leftOnAgent(socketPath: string): Promise<{ tasks: number; reserved: number }> {
  const state = (await operator(socketPath, "GET_STATE"))["get_state"] as {
    get_tasks?: { tasks?: { state: string }[] };
    get_agents?: { agents?: { total_resources?: { reservations?: unknown[] }[] }[] };
  };
  const tasks = (state.get_tasks?.tasks ?? []).filter((t) => !["TASK_FINISHED", "TASK_FAILED", "TASK_KILLED", "TASK_ERROR", "TASK_LOST", "TASK_DROPPED", "TASK_GONE", "TASK_GONE_BY_OPERATOR"].includes(t.state)).length;
  const reserved = (state.get_agents?.agents ?? []).flatMap((a) => a.total_resources ?? []).filter((r) => (r.reservations?.length ?? 0) > 0).length;
  return { tasks, reserved };
}

/** Processes whose working directory is inside `dir` (tasks in their sandboxes). */
function processesIn(dir: string): number[] {
  const out: number[] = [];
  for (const p of readdirSync("/proc")) {
    if (!/^\d+$/.test(p)) continue;
    try {
      if (readlinkSync(`/proc/${p}/cwd`).startsWith(`${dir}/`) && alive(Number(p))) out.push(Number(p));
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}

function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return undefined;
  }
}

/** Resident set and private memory of a process, from /proc/<pid>/smaps_rollup, in bytes. */
function memoryOf(pid: number): { rss: number; priv: number } {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
  const field = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? "0") * 1024;
  return { rss: field("Rss"), priv: field("Private_Clean") + field("Private_Dirty") };
}

// --- the run -----------------------------------------------------------------------------------

console.log(`Corral bench (o) local agent — ${machine()}`);
const rows: string[][] = [["measure", "Corral", "floor (direct spawns)", "ratio", "target", ""]];
try {
  // Warm both paths once (JIT, page cache), then measure.
  await floor(10);
  // 500 one-task services need 5.5 cpus and 16.5 GB of accounting (each pod's executor takes
  // Mesos' minimum, 0.01 cpus and 32 MB): the agent offers more than this 2-core machine has.
  const { corral, dataDir, agentDir } = await startScheduler(1, "cpus:64;mem:65536");
  await deployAll(corral, ["warm-0", "warm-1"]);
  await removeAll(corral, ["warm-0", "warm-1"]);
  // A warm-up round of 50, then the median of 3 rounds, each beside a floor of its own.
  await deployAll(corral, Array.from({ length: 50 }, (_, i) => name("w", i)));
  await removeAll(corral, Array.from({ length: 50 }, (_, i) => name("w", i)));
  const rounds: { deploy: number; floor: number }[] = [];
  for (let r = 0; r < 3; r++) {
    const names = Array.from({ length: 50 }, (_, i) => name(`s${r}`, i));
    const f = await floor(50);
    rounds.push({ deploy: await deployAll(corral, names), floor: f });
    await removeAll(corral, names);
  }
  rounds.sort((a, b) => a.deploy - b.deploy);
  const { deploy: deploy50, floor: floor50 } = rounds[1]!;
  rows.push([
    "50 services → deploy COMPLETE (median of 3)",
    `${ms(deploy50, 0)} (${rounds.map((r) => r.deploy.toFixed(0)).join(", ")})`,
    `${ms(floor50, 0)} (${rounds.map((r) => r.floor.toFixed(0)).join(", ")})`,
    `${(deploy50 / floor50).toFixed(2)} ×`,
    "≤ 400 ms, ≤ 4 ×",
    verdict(deploy50 <= 400 && deploy50 <= 4 * floor50),
  ]);

  const status = await agentStatus(agentDir);
  const agentPid = status.pid!;
  await sleep(500);
  const before = memoryOf(agentPid);
  const floor500 = await floor(500);
  const names500 = Array.from({ length: 500 }, (_, i) => name("t", i));
  const deploy500 = await deployAll(corral, names500);
  rows.push(["500 services → deploy COMPLETE", ms(deploy500, 0), ms(floor500, 0), `${(deploy500 / floor500).toFixed(2)} ×`, "≤ 4 s", verdict(deploy500 <= 4000)]);
  await sleep(1000);
  const after = memoryOf(agentPid);
  const tasks = processesIn(join(agentDir));
  // The wrappers are the agent's children; the command's sh and its sleep are the task itself.
  const wrappers = tasks.filter((pid) => parentOf(pid) === agentPid).map(memoryOf);
  const own = tasks.filter((pid) => parentOf(pid) !== agentPid).map(memoryOf);
  const perTaskRss = (after.rss - before.rss) / 500;
  const wrapperRss = wrappers.reduce((s, m) => s + m.rss, 0) / Math.max(1, wrappers.length);
  const wrapperPriv = wrappers.reduce((s, m) => s + m.priv, 0) / Math.max(1, wrappers.length);
  const ownRss = own.reduce((s, m) => s + m.rss, 0) / 500;
  const ownPriv = own.reduce((s, m) => s + m.priv, 0) / 500;
  const overhead = Math.max(0, perTaskRss) + wrapperPriv;
  rows.push([
    "agent RSS growth per running task (+ its wrapper's private memory)",
    `${(perTaskRss / 1024).toFixed(1)} KB (+ ${(wrapperPriv / 1024).toFixed(0)} KB) = ${(overhead / 1024).toFixed(0)} KB`,
    "",
    "",
    "≤ 1 MB",
    `${verdict(overhead <= 2 ** 20)}; agent RSS ${mb(before.rss)} → ${mb(after.rss)} with 500 tasks; ${wrappers.length} wrappers, each ${mb(wrapperRss)} RSS (shared sh pages)`,
  ]);
  rows.push(["the task's own processes (its sh and sleep)", `${mb(ownRss)} RSS, ${mb(ownPriv)} private`, "", "", "", "the floor's processes, the same"]);
  const remove500 = await removeAll(corral, names500);
  const left = await leftOnAgent(join(agentDir, "agent.sock"));
  const procsLeft = processesIn(agentDir).length;
  rows.push(["removal of the 500 → all gone", ms(remove500, 0), "", "", "≤ 2 s", verdict(remove500 <= 2000)]);
  rows.push(["left after the removal", `${left.tasks} tasks, ${procsLeft} processes, ${left.reserved} reservations`, "", "", "nothing", verdict(left.tasks + procsLeft + left.reserved === 0)]);
  await corral.stop();
  await stopAgent(agentDir, { killTasks: true });
  console.log(`(data directory ${dataDir})`);
} catch (err) {
  console.log(`the 50/500 part failed: ${(err as Error).stack ?? String(err)}`);
}

// Offers per second and ACCEPT latency: --local-agents 100, 1,000 services.
try {
  const { corral, agentDir } = await startScheduler(100, "cpus:200;mem:409600");
  const driver = corral.cluster as MesosDriver;
  const latencies: number[] = [];
  const accept = driver.accept.bind(driver);
  driver.accept = async (...args: Parameters<MesosDriver["accept"]>) => {
    const t = performance.now();
    try {
      return await accept(...args);
    } finally {
      latencies.push(performance.now() - t);
    }
  };
  const offersBefore = driver.stats.offersReceived;
  const started = performance.now();
  const names = Array.from({ length: 1000 }, (_, i) => name("u", i));
  let deployed = "";
  try {
    const wall = await deployAll(corral, names, 60_000);
    deployed = `all 1,000 deployed in ${ms(wall, 0)}`;
  } catch (err) {
    deployed = (err as Error).message;
  }
  const secs = (performance.now() - started) / 1000;
  const offers = driver.stats.offersReceived - offersBefore;
  const l = summarize(latencies);
  rows.push(["--local-agents 100, 1,000 services: offers handled", `${(offers / secs).toFixed(0)} /s`, "", "", "reported", `${offers} offers in ${secs.toFixed(1)} s; ${deployed}`]);
  rows.push(["ACCEPT latency (call → 202)", `p50 ${ms(l.p50, 2)}, p99 ${ms(l.p99, 2)}`, "", "", "reported", `${l.n} accepts`]);
  await corral.stop();
  await stopAgent(agentDir, { killTasks: true });
} catch (err) {
  console.log(`the offers part failed: ${(err as Error).stack ?? String(err)}`);
}

// Resubscription after a dropped stream: a driver alone against an in-process agent with chaos on.
try {
  const stateDir = tempDir("resub");
  const clock = new SystemClock({ unref: false });
  const random = new CryptoRandom();
  const log = pino({ level: "silent" });
  const agent = await LocalAgent.start({ stateDir, agents: 1, taskPath: process.env["PATH"] ?? "/usr/bin:/bin", canSwitchUser: false, chaos: true, clock, random, log });
  const driver = new MesosDriver({ master: { kind: "unix", socketPath: agent.socketPath }, user: "nobody", clock, random, log });
  let subscribed = 0;
  const noop = (): void => undefined;
  await driver.subscribe(
    { name: "bench", role: "bench-role", principal: "bench", failoverTimeoutS: 3600 },
    { subscribed: () => subscribed++, offers: (_o: readonly Offer[]) => undefined, rescind: noop, update: noop, disconnected: noop },
  );
  const times: number[] = [];
  for (let i = 0; i < 20; i++) {
    const seen = subscribed;
    const t = performance.now();
    await setChaos({ socketPath: agent.socketPath }, { drop_streams: true });
    while (subscribed === seen) await sleep(1);
    times.push(performance.now() - t);
  }
  const s = summarize(times);
  rows.push(["resubscription after a dropped stream", `p50 ${ms(s.p50, 1)}, p99 ${ms(s.p99, 1)}`, "", "", "reported", `20 drops; driver's own figure ${ms(driver.stats.lastResubscribeMs ?? Number.NaN, 1)}`]);
  await driver.close();
  await agent.close();
} catch (err) {
  console.log(`the resubscription part failed: ${(err as Error).stack ?? String(err)}`);
}

console.log(table(rows));
// Whatever part failed, no agent and no task of this run is left behind.
for (const d of dirs) {
  await stopAgent(join(d, "agent"), { killTasks: true }).catch(() => false);
  for (const pid of processesIn(d)) {
    kill(-pid);
    kill(pid);
  }
  rmSync(d, { recursive: true, force: true });
}
process.exit(0);
