/**
 * The kill -9 run (issue 10, deliverable 6): the scheduler as its own process on the local
 * cluster (real task processes) with the SQLite store. Each iteration puts a new service,
 * uninstalls one, or does nothing; kills the scheduler with SIGKILL — after a random delay,
 * while the call is in flight, or exactly at a task-record commit or during a launch (the
 * test-only crash points of src/adapters/cluster/test-crash.ts; during-launch kills the local
 * agent daemon, and a random or in-flight kill sometimes takes the agent too) — sometimes kills the
 * restarted one again during its start-up, restarts it, and checks:
 *
 *   - every acknowledged put is present, and every acknowledged removal completes;
 *   - every plan converges (every service RUNNING, no removal left);
 *   - at most one live task per task name, counted from the real processes (/proc);
 *   - no process, sandbox, volume or reservation that no service owns;
 *
 * and measures the time from the restart to health SERVING, and from there to converged.
 * Shared by `npm run chaos` (main.ts), the CI test (chaos.test.ts) and bench/chaos.ts.
 * Everything it started is killed at the end, also when it fails.
 */
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { Health, HealthCheckResponse_ServingStatus, ServiceState, createAdminClient, createPromiseClient } from "../../src/client/index.js";
import type { AdminClient } from "../../src/client/index.js";
import type { Started } from "./scheduler.js";
import { kill9, spawnScheduler } from "./scheduler.js";
import type { SpecKind } from "./specs.js";
import { SPEC_KINDS, specText } from "./specs.js";
import { killLocalProcesses, localWorld, taskName, taskService } from "./world.js";
import { readAgentInfo } from "../../src/adapters/cluster/agent/agent-info.js";
import { ensureAgent, stopAgent } from "../../src/adapters/cluster/agent/daemon.js";
import { isAlive } from "../processes.js";
import { makeTempDir } from "../temp-dir.js";

export type Action = "put" | "uninstall" | "nothing";
/** Where the first kill of an iteration lands; "startup" is the second kill, during the restart. */
export type KillWindow = "random" | "in-flight" | "after-task-record" | "during-launch" | "startup";
export const KILL_WINDOWS: readonly KillWindow[] = ["random", "in-flight", "after-task-record", "during-launch", "startup"];

export interface ChaosOptions {
  readonly iterations: number;
  readonly seed: number;
  /** Most services alive at once (puts turn into uninstalls beyond). @default 5 */
  readonly maxServices?: number;
  /** Longest random delay before a kill. @default 1500 */
  readonly maxDelayMs?: number;
  /** Chance of a second kill during the restart. @default 0.25 */
  readonly secondKillChance?: number;
  /** A plan not converged after this long is a violation. @default 30_000 */
  readonly convergeTimeoutMs?: number;
  /** Progress lines. @default none */
  readonly log?: (line: string) => void;
  /** Keep the data directory (it is always kept when there are violations). @default false */
  readonly keep?: boolean;
  /** Stops the run after the current iteration (it still cleans up). */
  readonly signal?: AbortSignal;
}

export interface Violation {
  readonly seed: number;
  readonly iteration: number;
  readonly what: string;
}

export interface IterationResult {
  readonly iteration: number;
  readonly action: Action;
  readonly window: KillWindow;
  readonly secondKill: boolean;
  /** Restart (last spawn) → health SERVING. */
  readonly healthyMs: number;
  /** Health SERVING → converged (every plan complete, removals done); undefined if it never did. */
  readonly convergedMs: number | undefined;
}

export interface ChaosReport {
  readonly seed: number;
  readonly iterations: number;
  readonly puts: number;
  readonly uninstalls: number;
  readonly nothings: number;
  readonly putsAcked: number;
  readonly uninstallsAcked: number;
  readonly kills: Record<KillWindow, number>;
  /** An armed crash point that was not reached within 15 s (the scheduler was killed anyway). */
  readonly crashPointsMissed: number;
  /** Times the local agent died with the scheduler: at its crash point, or killed beside it. */
  readonly agentKills: number;
  readonly violations: readonly Violation[];
  readonly results: readonly IterationResult[];
  readonly wallMs: number;
  readonly dataDir: string;
}

/** mulberry32: small, seedable, good enough to pick actions. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Plan {
  readonly action: Action;
  readonly window: KillWindow;
  readonly delayMs: number;
  readonly name: string;
  readonly kind: SpecKind;
  readonly secondKill: boolean;
  /** The second kill: at the start-up crash point (subscription), or this long after serving. */
  readonly secondKillAfterServingMs: number | undefined;
  /** For an uninstall: which of the services (index into the sorted list, modulo its size). */
  readonly pick: number;
  /** A random or in-flight kill takes the local agent down with the scheduler. */
  readonly alsoAgent: boolean;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function pickPlan(rand: () => number, i: number, services: number, o: Required<Omit<ChaosOptions, "log" | "keep" | "signal">>): Plan {
  const r = rand();
  let action: Action = r < 0.5 ? "put" : r < 0.8 ? "uninstall" : "nothing";
  if (action === "put" && services >= o.maxServices) action = "uninstall";
  if (action === "uninstall" && services === 0) action = "put";
  const w = rand();
  const window: KillWindow =
    action === "put"
      ? w < 0.3 ? "after-task-record" : w < 0.55 ? "during-launch" : w < 0.85 ? "random" : "in-flight"
      : action === "uninstall"
        ? w < 0.7 ? "random" : "in-flight"
        : "random";
  return {
    action,
    window,
    // Skewed towards short delays: most of what happens after a call happens in its first 300 ms.
    delayMs: Math.floor(rand() ** 2 * o.maxDelayMs),
    name: `chaos-${i}`,
    kind: SPEC_KINDS[Math.floor(rand() * SPEC_KINDS.length)]!,
    secondKill: rand() < o.secondKillChance,
    secondKillAfterServingMs: rand() < 0.5 ? undefined : Math.floor(rand() * 400),
    pick: Math.floor(rand() * 1000),
    alsoAgent: (window === "random" || window === "in-flight") && rand() < 0.3,
  };
}

/** The test-only crash point a plan needs armed in the scheduler process that will run it. */
function crashEnv(plan: Plan | undefined): Record<string, string> {
  if (plan?.window !== "after-task-record") return {};
  return { CORRAL_TEST_CRASH_AT: plan.window, CORRAL_TEST_CRASH_SERVICE: plan.name };
}

/** The crash point a plan needs armed in the local agent: during-launch is the agent's. */
function agentCrashEnv(plan: Plan | undefined): Record<string, string> | undefined {
  if (plan?.window !== "during-launch") return undefined;
  return { CORRAL_TEST_CRASH_AT: plan.window, CORRAL_TEST_CRASH_SERVICE: plan.name };
}

/** kill -9 of a process that is not our child, and wait until it is gone. */
async function killPid(pid: number): Promise<void> {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    return; // gone already
  }
  await untilDead(pid, 5000);
}

/** Whether `pid` ended within `timeoutMs`. */
async function untilDead(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (isAlive(pid)) {
    if (performance.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

/** This process's environment without Corral's settings (the agent's, like the scheduler's). */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("CORRAL_")));
}

async function waitHealthy(address: string, timeoutMs: number): Promise<number | undefined> {
  const health = createPromiseClient(Health, address);
  const deadline = performance.now() + timeoutMs;
  try {
    while (performance.now() < deadline) {
      try {
        const r = await health.check({}, { deadlineMs: 1000 });
        if (r.status === HealthCheckResponse_ServingStatus.SERVING) return performance.now();
      } catch {
        // not yet
      }
      await sleep(10);
    }
    return undefined;
  } finally {
    health.close();
  }
}

interface ServiceLine {
  readonly name: string;
  readonly state: ServiceState;
}

/** Polls ListServices until every service is RUNNING and `removed` are gone; the time, or undefined on timeout. */
async function waitConverged(
  client: AdminClient,
  mustExist: ReadonlySet<string>,
  removed: ReadonlySet<string>,
  timeoutMs: number,
): Promise<{ at: number | undefined; services: ServiceLine[] }> {
  const deadline = performance.now() + timeoutMs;
  let services: ServiceLine[] = [];
  for (;;) {
    try {
      services = (await client.listServices({})).services.map((s) => ({ name: s.name, state: s.state }));
      const names = new Set(services.map((s) => s.name));
      const done =
        services.every((s) => s.state === ServiceState.RUNNING || s.state === ServiceState.QUARANTINED) &&
        [...removed].every((n) => !names.has(n)) &&
        [...mustExist].every((n) => names.has(n));
      if (done) return { at: performance.now(), services };
    } catch {
      // answered next time
    }
    if (performance.now() > deadline) return { at: undefined, services };
    await sleep(25);
  }
}

/** Every task ID the services' plans name (deploy and recovery). */
export async function knownTaskIds(client: AdminClient, names: readonly string[]): Promise<Set<string>> {
  const ids = new Set<string>();
  for (const name of names) {
    for (const plan of ["deploy", "recovery"]) {
      const p = (await client.getPlan({ name, plan })).plan;
      for (const id of p?.phases.flatMap((ph) => ph.steps.flatMap((s) => s.taskIds)) ?? []) ids.add(id);
    }
  }
  return ids;
}

/**
 * What on the machine no service owns, or a service that should run and does not (`unsettled`:
 * given time to settle); and task names with more than one live task (`duplicates`: never allowed).
 */
export function worldProblems(dataDir: string, services: ReadonlySet<string>, taskIds: ReadonlySet<string>): { unsettled: string[]; duplicates: string[] } {
  const world = localWorld(dataDir);
  const unsettled: string[] = [];
  const liveIds = new Set(world.processes.map((p) => p.taskId));
  const byName = new Map<string, Set<string>>();
  for (const id of liveIds) {
    const name = taskName(id);
    byName.set(name, (byName.get(name) ?? new Set()).add(id));
    if (!services.has(taskService(id))) unsettled.push(`process of task ${id}: its service is gone`);
    else if (!taskIds.has(id)) unsettled.push(`process of task ${id}: no plan of its service knows it`);
  }
  // Every spec of this run has one long-running task, `<pod>-0-server`: a RUNNING service has its process.
  for (const svc of services) {
    if (![...liveIds].some((id) => taskService(id) === svc && taskName(id).endsWith("-0-server"))) {
      unsettled.push(`service ${svc} is RUNNING, but no process runs its server task`);
    }
  }
  const duplicates = [...byName].filter(([, ids]) => ids.size > 1).map(([name, ids]) => `${ids.size} live tasks named ${name}: ${[...ids].join(", ")}`);
  for (const id of world.sandboxes) if (!services.has(taskService(id))) unsettled.push(`sandbox ${id}: its service is gone`);
  const owned = new Set(world.reservations.filter((r) => r.namespace !== undefined && services.has(r.namespace)).flatMap((r) => (r.persistenceId ? [`${r.agentId}/${r.persistenceId}`] : [])));
  for (const v of world.volumes) if (!owned.has(v)) unsettled.push(`volume ${v}: no reservation of a service holds it`);
  for (const r of world.reservations) {
    if (r.namespace === undefined || !services.has(r.namespace)) unsettled.push(`reservation on ${r.agentId} of namespace ${r.namespace ?? "(none)"}: no such service`);
  }
  return { unsettled, duplicates };
}

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const o = {
    maxServices: options.maxServices ?? 5,
    maxDelayMs: options.maxDelayMs ?? 1500,
    secondKillChance: options.secondKillChance ?? 0.25,
    convergeTimeoutMs: options.convergeTimeoutMs ?? 30_000,
    iterations: options.iterations,
    seed: options.seed,
  };
  const log = options.log ?? ((): void => undefined);
  const rand = prng(options.seed);
  const base = makeTempDir("chaos");
  const dataDir = join(base, "data");
  const logDir = join(base, "logs");
  mkdirSync(logDir, { recursive: true });
  const started = performance.now();
  const kills = Object.fromEntries(KILL_WINDOWS.map((w) => [w, 0])) as Record<KillWindow, number>;
  const violations: Violation[] = [];
  const results: IterationResult[] = [];
  let puts = 0;
  let uninstalls = 0;
  let nothings = 0;
  let putsAcked = 0;
  let uninstallsAcked = 0;
  let missed = 0;
  let agentKills = 0;
  let spawns = 0;
  /** Services that must exist (acknowledged puts) and ones that must be gone (acknowledged removals). */
  const mustExist = new Set<string>();
  const mustGo = new Set<string>();
  /** Services present after the last convergence. */
  let present: string[] = [];
  let proc: Started | undefined;
  let client: AdminClient | undefined;
  const violate = (iteration: number, what: string): void => {
    violations.push({ seed: options.seed, iteration, what });
    log(`VIOLATION seed=${options.seed} iteration=${iteration}: ${what}`);
  };
  const agentDir = join(dataDir, "agent");
  /**
   * Starts the scheduler. A plan whose crash point is the agent's gets an agent of its own first,
   * started with the crash point armed (the scheduler finds it running and uses it); the agent
   * the scheduler starts after that crash has no crash point.
   */
  const start = async (env: Record<string, string>, agentEnv?: Record<string, string>): Promise<Started> => {
    if (agentEnv) {
      await stopAgent(agentDir);
      await ensureAgent({ stateDir: agentDir, agents: 1, env: { ...cleanEnv(), ...agentEnv } });
    }
    proc = spawnScheduler(dataDir, logDir, spawns++, env);
    return proc;
  };
  const startFor = (plan: Plan): Promise<Started> => start(crashEnv(plan), agentCrashEnv(plan));

  try {
    let plan = pickPlan(rand, 0, 0, o);
    const first = await startFor(plan);
    client = createAdminClient({ address: await first.serving, defaultDeadlineMs: 5000 });
    for (let i = 0; i < options.iterations && options.signal?.aborted !== true; i++) {
      const current = proc!;
      const admin = client!;
      let action = plan.action;
      let target: string | undefined;
      if (action === "uninstall") {
        const candidates = [...present].sort();
        target = candidates[plan.pick % Math.max(1, candidates.length)];
        if (target === undefined) action = "nothing";
      }
      let window: KillWindow = action === "nothing" ? "random" : plan.window;
      if (action !== "put" && (window === "after-task-record" || window === "during-launch")) window = "random";
      if (action === "put") puts++;
      else if (action === "uninstall") uninstalls++;
      else nothings++;

      // The action, and the kill.
      let acked = false;
      const call =
        action === "put"
          ? admin.putService({ name: plan.name, spec: specText(plan.kind), parameters: {} }).then(() => (acked = true))
          : action === "uninstall"
            ? admin.uninstallService({ name: target! }).then(() => (acked = true))
            : Promise.resolve();
      const settled = call.catch((err: unknown) => err);
      const agentPid = readAgentInfo(agentDir)?.pid;
      const killBoth = async (): Promise<void> => {
        if (plan.alsoAgent && agentPid !== undefined) {
          await killPid(agentPid);
          agentKills++;
        }
        await kill9(current);
      };
      if (window === "in-flight") {
        await sleep(Math.floor(plan.delayMs / 40)); // 0–37 ms: before, while or just after the call is served
        await killBoth();
        await settled;
      } else {
        const err = await settled;
        if (err instanceof Error && current.child.exitCode === null && current.child.signalCode === null) {
          violate(i, `${action} ${action === "put" ? plan.name : target} failed while the scheduler was up: ${err.message}`);
        }
        if (window === "random") {
          await sleep(plan.delayMs);
          await killBoth();
        } else if (window === "during-launch") {
          // The agent dies at the crash point; the scheduler goes down with it (the machine's crash).
          const died = agentPid !== undefined && (await untilDead(agentPid, 15_000));
          if (died) agentKills++;
          else {
            missed++;
            log(`iteration ${i}: the agent's crash point not reached in 15 s; killed the scheduler instead`);
          }
          await kill9(current);
        } else {
          const died = await Promise.race([current.exited.then(() => true), sleep(15_000).then(() => false)]);
          if (!died) {
            missed++;
            log(`iteration ${i}: crash point ${window} not reached in 15 s; killed instead`);
            await kill9(current);
          }
        }
      }
      kills[window]++;
      client.close();
      if (acked && action === "put") {
        putsAcked++;
        mustExist.add(plan.name);
      }
      // An uninstall stops the service from having to exist, acknowledged or not (it may have
      // landed); acknowledged, its removal must complete.
      if (action === "uninstall") mustExist.delete(target!);
      if (acked && action === "uninstall") {
        uninstallsAcked++;
        mustGo.add(target!);
      }

      // A second kill, while the restarted scheduler starts up.
      if (plan.secondKill) {
        const after = plan.secondKillAfterServingMs;
        if (after === undefined) {
          // At the crash point: services recovered, cluster restored, subscribing.
          const again = await start({ CORRAL_TEST_CRASH_AT: "startup" });
          const died = await Promise.race([again.exited.then(() => true), sleep(30_000).then(() => false)]);
          if (!died) {
            missed++;
            await kill9(again);
          }
        } else {
          // Serving, and reconciling / relaunching what the first kill cut off.
          const again = await start({});
          await Promise.race([again.serving.catch(() => undefined), sleep(30_000)]);
          await sleep(after);
          await kill9(again);
        }
        kills.startup++;
      }

      // The restart, with the next iteration's crash point armed (it concerns the next service only).
      const next = pickPlan(rand, i + 1, mustExist.size + (acked || action !== "put" ? 0 : 1), o);
      const restarted = i + 1 < options.iterations ? await startFor(next) : await start({});
      let address: string;
      try {
        address = await Promise.race([
          restarted.serving,
          sleep(60_000).then(() => {
            throw new Error("not serving after 60 s");
          }),
        ]);
      } catch (err) {
        violate(i, `the restarted scheduler did not serve: ${(err as Error).message} (log ${restarted.logFile})`);
        break;
      }
      client = createAdminClient({ address, defaultDeadlineMs: 5000 });
      const healthyAt = (await waitHealthy(address, 30_000)) ?? performance.now();
      const { at, services } = await waitConverged(client, mustExist, mustGo, o.convergeTimeoutMs);
      const names = new Set(services.map((s) => s.name));
      if (at === undefined) {
        const waiting = services.filter((s) => s.state !== ServiceState.RUNNING).map((s) => `${s.name}=${ServiceState[s.state]}`);
        const lost = [...mustExist].filter((n) => !names.has(n));
        const stuck = [...mustGo].filter((n) => names.has(n));
        violate(i, `not converged after ${o.convergeTimeoutMs} ms: ${[...waiting, ...lost.map((n) => `${n} missing`), ...stuck.map((n) => `${n} not removed`)].join(", ")}`);
      }
      for (const s of services) if (s.state === ServiceState.QUARANTINED) violate(i, `${s.name} is quarantined`);
      for (const n of mustGo) if (!names.has(n)) mustGo.delete(n);
      present = [...names].filter((n) => !mustGo.has(n));
      // A put that was never acknowledged may have landed: then it is a service like any other.
      for (const n of present) mustExist.add(n);
      results.push({
        iteration: i,
        action,
        window,
        secondKill: plan.secondKill,
        healthyMs: healthyAt - restarted.spawnedAt,
        convergedMs: at === undefined ? undefined : Math.max(0, at - healthyAt),
      });

      // What runs on the machine: owned by a service, one live task per name.
      const alive = new Set(present);
      const ids = await knownTaskIds(client, present).catch(() => new Set<string>());
      const deadline = performance.now() + 10_000;
      let problems = worldProblems(dataDir, alive, ids);
      const seenDuplicates = new Set(problems.duplicates);
      while (problems.unsettled.length > 0 && performance.now() < deadline) {
        await sleep(200);
        const again = await knownTaskIds(client, present).catch(() => ids);
        problems = worldProblems(dataDir, alive, again);
        for (const d of problems.duplicates) seenDuplicates.add(d);
      }
      for (const d of seenDuplicates) violate(i, d);
      for (const p of problems.unsettled) violate(i, `${p} (still after 10 s)`);
      const r = results.at(-1)!;
      log(
        `#${i} ${action}${action === "put" ? ` ${plan.name} (${plan.kind})` : action === "uninstall" ? ` ${target}` : ""}` +
          ` kill=${window}${plan.secondKill ? `+startup${plan.secondKillAfterServingMs === undefined ? "" : `(serving+${plan.secondKillAfterServingMs}ms)`}` : ""} acked=${acked} healthy=${r.healthyMs.toFixed(0)}ms` +
          ` converged=+${r.convergedMs === undefined ? "never" : `${r.convergedMs.toFixed(0)}ms`} services=${present.length}`,
      );
      plan = next;
    }
  } finally {
    client?.close();
    if (proc) await kill9(proc);
    await stopAgent(agentDir, { killTasks: true }).catch(() => false);
    const killed = await killLocalProcesses(dataDir);
    if (killed > 0) log(`clean-up: killed the task processes still running (${killed} signals)`);
    if (violations.length === 0 && !options.keep) rmSync(base, { recursive: true, force: true });
  }
  return {
    seed: options.seed,
    iterations: results.length,
    puts,
    uninstalls,
    nothings,
    putsAcked,
    uninstallsAcked,
    kills,
    crashPointsMissed: missed,
    agentKills,
    violations,
    results,
    wallMs: performance.now() - started,
    dataDir: base,
  };
}

export function pct(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1]!;
}

/** Time-to-healthy and time-to-converged (after healthy) p50/max, overall and per kill window. */
export function timeLines(report: ChaosReport, targetMs = 2500): string[] {
  const lines: string[] = [];
  const row = (label: string, rs: readonly IterationResult[]): void => {
    if (rs.length === 0) return;
    const h = rs.map((r) => r.healthyMs);
    const c = rs.flatMap((r) => (r.convergedMs === undefined ? [] : [r.convergedMs]));
    const never = rs.length - c.length;
    const maxC = never > 0 ? Number.POSITIVE_INFINITY : Math.max(...c);
    const total = rs.flatMap((r) => (r.convergedMs === undefined ? [] : [r.healthyMs + r.convergedMs]));
    const verdict = maxC <= targetMs ? "ok" : "MISSED";
    const f = (v: number): string => (Number.isFinite(v) ? v.toFixed(0) : "never").padStart(5);
    lines.push(
      `  ${label.padEnd(26)} n=${String(rs.length).padStart(3)}  healthy p50 ${f(pct(h, 50))} max ${f(Math.max(...h))}` +
        ` | converged after healthy p50 ${f(pct(c, 50))} max ${f(maxC)} (≤ ${targetMs}: ${verdict})` +
        ` | converged after restart p50 ${f(pct(total, 50))} max ${f(never > 0 ? Number.POSITIVE_INFINITY : Math.max(...total))}  (ms)`,
    );
  };
  row("all", report.results);
  for (const w of KILL_WINDOWS) {
    if (w === "startup") row("+ second kill at start-up", report.results.filter((r) => r.secondKill));
    else row(`kill ${w}`, report.results.filter((r) => r.window === w));
  }
  return lines;
}

export function summaryLines(report: ChaosReport): string[] {
  const k = report.kills;
  return [
    `kill -9 run: seed ${report.seed}, ${report.iterations} iterations in ${(report.wallMs / 1000).toFixed(1)} s (${(report.wallMs / Math.max(1, report.iterations) / 1000).toFixed(2)} s each)`,
    `  actions: ${report.puts} puts (${report.putsAcked} acknowledged), ${report.uninstalls} uninstalls (${report.uninstallsAcked} acknowledged), ${report.nothings} nothing`,
    `  kills: ${KILL_WINDOWS.map((w) => `${w} ${k[w]}`).join(", ")}; total ${KILL_WINDOWS.reduce((s, w) => s + k[w], 0)}` +
      (report.crashPointsMissed > 0 ? `; ${report.crashPointsMissed} crash points not reached (killed instead)` : "") +
      `; the local agent died with the scheduler ${report.agentKills} times`,
    `  violations: ${report.violations.length}`,
    ...report.violations.map((v) => `    seed ${v.seed} iteration ${v.iteration}: ${v.what}`),
    ...(report.violations.length > 0 ? [`  data directory and scheduler logs kept in ${report.dataDir}`] : []),
    "  times (from the restart; converged = every plan COMPLETE and every removal done):",
    ...timeLines(report),
  ];
}
