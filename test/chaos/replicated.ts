/**
 * The replicated chaos run (issue 17, deliverable 4): a real ZooKeeper server started by the run,
 * N scheduler replicas (replica.ts) on `--store zk://…` with one shared data directory and so the
 * machine's one local agent, and a short session timeout. Each iteration puts a service, uninstalls
 * one or does nothing, and meanwhile kills the leader, the leader again during the failover, a
 * standby, the local agent, or the ZooKeeper server (frozen, or kill -9 and restart): replica-kills.ts.
 * Killed replicas are started again. Checked after every iteration: the kill -9 run's invariants
 * (acknowledged puts present, acknowledged removals complete, plans converge, at most one live
 * task per task name from /proc, no orphan process, sandbox, volume or reservation), and: no two
 * replicas lead at once (leader-intervals.ts, from the replicas' own log lines and death times),
 * and two WatchUninstall clients — the harness's own resuming loop and the typed client's
 * followUninstall given the three addresses (each slot keeps its port) — each saw every event once
 * (uninstall-events.ts).
 * Measured: failover (leader kill → another replica answers PutService OK) and convergence.
 * Shared by `npm run chaos -- --replicas 3` (main.ts), CI (replicated.test.ts).
 */
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { ServiceState, UninstallEventKind } from "../../src/client/index.js";
import { stopAgent } from "../../src/adapters/cluster/agent/daemon.js";
import { makeTempDir } from "../temp-dir.js";
import { freePort, startZooKeeper } from "../zk/zk-server.js";
import type { Action, Violation } from "./chaos.js";
import { knownTaskIds, pct, prng, worldProblems } from "./chaos.js";
import { FollowingUninstallWatcher, ResumingUninstallWatcher } from "./leader-calls.js";
import { leaderIntervals, leaderOverlaps } from "./leader-intervals.js";
import type { Replica } from "./replica.js";
import { ReplicaSet } from "./replica-set.js";
import { REPLICA_KILLS, applyKill, drawKill } from "./replica-kills.js";
import type { ReplicaKill, ZooKeeperSlot } from "./replica-kills.js";
import type { SpecKind } from "./specs.js";
import { SPEC_KINDS, specText } from "./specs.js";
import { uninstallEventProblems } from "./uninstall-events.js";
import { killLocalProcesses } from "./world.js";

export { REPLICA_KILLS } from "./replica-kills.js";
export type { ReplicaKill } from "./replica-kills.js";

export interface ReplicatedOptions {
  readonly iterations: number;
  readonly seed: number;
  /** @default 3 */
  readonly replicas?: number;
  /** `--zk-session-timeout` of every replica, seconds. @default 4 */
  readonly sessionTimeoutS?: number;
  /** Kill kinds in turn (iteration i: REPLICA_KILLS[i % 6]) instead of drawn: CI covers each. @default false */
  readonly everyKind?: boolean;
  /** @default 4 */
  readonly maxServices?: number;
  /** A plan not converged this long after the kill is a violation. @default 90_000 */
  readonly convergeTimeoutMs?: number;
  readonly log?: (line: string) => void;
  readonly keep?: boolean;
  readonly signal?: AbortSignal;
}

export interface ReplicatedIteration {
  readonly iteration: number;
  readonly action: Action;
  readonly kill: ReplicaKill;
  /** Leader kills: the last kill of a leader → another replica answers PutService OK. */
  readonly failoverMs: number | undefined;
  /** ZooKeeper kills: the server back (SIGCONT, or restarted and serving) → a replica answers PutService OK. */
  readonly servingAgainMs: number | undefined;
  /** Another replica leads after the iteration than before it. */
  readonly leaderChanged: boolean;
  /** The kill (the last, for leader-twice) → every plan converged; undefined if it never did. */
  readonly convergedMs: number | undefined;
}

export interface ReplicatedReport {
  readonly seed: number;
  readonly replicas: number;
  readonly sessionTimeoutS: number;
  readonly iterations: number;
  readonly puts: number;
  readonly putsAcked: number;
  readonly uninstalls: number;
  readonly uninstallsAcked: number;
  readonly kills: Record<ReplicaKill, number>;
  readonly replicaStarts: number;
  /** Replicas that exited though the run did not kill them (each was started again). */
  readonly selfExits: readonly string[];
  readonly leaderTerms: number;
  readonly watchStreams: number;
  readonly watchEvents: number;
  /** The typed client's followUninstall (all replica addresses). */
  readonly followStreams: number;
  readonly followEvents: number;
  readonly violations: readonly Violation[];
  readonly results: readonly ReplicatedIteration[];
  readonly wallMs: number;
  readonly dir: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** A service put once at the start and put again unchanged to time a failover (PutService answered OK). */
const PROBE = "chaos-probe";

export async function runReplicated(options: ReplicatedOptions): Promise<ReplicatedReport> {
  const replicas = options.replicas ?? 3;
  const sessionTimeoutS = options.sessionTimeoutS ?? 4;
  const maxServices = options.maxServices ?? 4;
  const convergeTimeoutMs = options.convergeTimeoutMs ?? 90_000;
  const log = options.log ?? ((): void => undefined);
  const rand = prng(options.seed);
  const dir = makeTempDir("chaos-ha");
  const dataDir = join(dir, "data");
  const logDir = join(dir, "logs");
  const zkDir = join(dir, "zk");
  const agentDir = join(dataDir, "agent");
  mkdirSync(logDir, { recursive: true });
  const started = performance.now();
  const violations: Violation[] = [];
  const seenViolations = new Set<string>();
  const violate = (iteration: number, what: string): void => {
    if (seenViolations.has(what)) return;
    seenViolations.add(what);
    violations.push({ seed: options.seed, iteration, what });
    log(`VIOLATION seed=${options.seed} iteration=${iteration}: ${what}`);
  };
  const results: ReplicatedIteration[] = [];
  const kills = Object.fromEntries(REPLICA_KILLS.map((k) => [k, 0])) as Record<ReplicaKill, number>;
  let puts = 0;
  let putsAcked = 0;
  let uninstalls = 0;
  let uninstallsAcked = 0;
  const mustExist = new Set<string>([PROBE]);
  const mustGo = new Set<string>();
  const removalsDone = new Set<string>();
  let present: string[] = [];
  const zkSlot: ZooKeeperSlot = { server: undefined, dir: zkDir, port: await freePort() };
  zkSlot.server = await startZooKeeper({ dir: zkDir, port: zkSlot.port });
  const store = `zk://${zkSlot.server.connect}/corral-chaos`;
  let watcher: ResumingUninstallWatcher | undefined;
  let follower: FollowingUninstallWatcher | undefined;
  // Each slot keeps its port across restarts: the typed client is given the replicas' addresses once.
  const ports: number[] = [];
  for (let i = 0; i < replicas; i++) ports.push(await freePort());
  let iteration = -1;
  const selfExits: string[] = [];
  const set = new ReplicaSet({
    store,
    dataDir,
    logDir,
    sessionTimeoutS,
    ports,
    onOwnExit: (r) => {
      const why = `replica ${r.name} exited by itself (${r.child.signalCode ?? r.child.exitCode}; the end of ${r.logFile} says why)`;
      selfExits.push(`iteration ${iteration}: ${why}`);
      log(`#${iteration} note: ${why}; started again`);
    },
  });
  const clients = set.clients;
  const slots = set.slots;
  const leaderSlot = (): number => set.leaderSlot();
  /** performance.now() when a replica other than `not` answered PutService of the probe OK. */
  const probeServed = (not: Replica | undefined, timeoutMs: number): Promise<number | undefined> => set.putServedBy(PROBE, not, timeoutMs);

  try {
    await set.start(replicas);
    if ((await set.untilLeader(60_000)) < 0) throw new Error(`no replica leads 60 s after the start; logs in ${logDir}`);
    await clients.onLeader((c) => c.putService({ name: PROBE, spec: specText("simple"), parameters: {} }), 30_000);
    watcher = new ResumingUninstallWatcher(clients);
    follower = new FollowingUninstallWatcher(ports.map((p) => `127.0.0.1:${p}`));

    for (let i = 0; i < options.iterations && options.signal?.aborted !== true; i++) {
      // What to do, and what to kill.
      iteration = i;
      const r = rand();
      let action: Action = r < 0.5 ? "put" : r < 0.8 ? "uninstall" : "nothing";
      const candidates = present.filter((n) => n !== PROBE).sort();
      if (action === "put" && candidates.length >= maxServices) action = "uninstall";
      if (action === "uninstall" && candidates.length === 0) action = "put";
      const kindDrawn = REPLICA_KILLS[Math.floor(rand() * REPLICA_KILLS.length)]!;
      const kill = options.everyKind ? REPLICA_KILLS[i % REPLICA_KILLS.length]! : kindDrawn;
      const delayMs = Math.floor(rand() ** 2 * 1500);
      const name = `chaos-${i}`;
      const kind: SpecKind = SPEC_KINDS[Math.floor(rand() * SPEC_KINDS.length)]!;
      const target = candidates[Math.floor(rand() * 1000) % Math.max(1, candidates.length)];
      const killPlan = drawKill(rand, kill, sessionTimeoutS);
      if (action === "put") puts++;
      if (action === "uninstall") uninstalls++;

      // The action, on the leader, and the kill `delayMs` after it started (maybe while it is in flight).
      let acked = false;
      let killing = false;
      const call =
        action === "put"
          ? clients.onLeader((c) => c.putService({ name, spec: specText(kind), parameters: {} }), 0).then(() => (acked = true))
          : action === "uninstall"
            ? clients.onLeader((c) => c.uninstallService({ name: target! }), 0).then(() => (acked = true))
            : Promise.resolve();
      const settled = call.then(
        () => undefined,
        (err: unknown) => {
          if (!killing) violate(i, `${action} ${action === "put" ? name : target} failed before the kill: ${(err as Error).message}`);
        },
      );
      await sleep(delayMs);
      killing = true;
      const leaderBefore = slots[leaderSlot()];
      const { killedAt, killedLeader, leaderKilledAt, zkBackAt, detail } = await applyKill(killPlan, { set, zk: zkSlot, agentDir, sessionTimeoutS, violate: (what) => violate(i, what) });
      kills[kill]++;
      await settled;
      if (acked && action === "put") {
        putsAcked++;
        mustExist.add(name);
      }
      if (action === "uninstall") mustExist.delete(target!);
      if (acked && action === "uninstall") {
        uninstallsAcked++;
        mustGo.add(target!);
      }

      // Failover (leader kills): the last kill of a leader → another replica answers PutService OK.
      const lastKill = killedAt.at(-1) ?? performance.now();
      let failoverMs: number | undefined;
      if (killedLeader) {
        const served = await probeServed(killedLeader, sessionTimeoutS * 1000 + 60_000);
        if (served === undefined) violate(i, `no replica answered PutService within ${sessionTimeoutS + 60} s of the leader's kill`);
        else failoverMs = served - leaderKilledAt!;
      }
      let servingAgainMs: number | undefined;
      if (zkBackAt !== undefined) {
        const served = await probeServed(undefined, sessionTimeoutS * 1000 + 60_000);
        if (served === undefined) violate(i, `no replica answered PutService within ${sessionTimeoutS + 60} s of ZooKeeper's return`);
        else servingAgainMs = served - zkBackAt;
      }
      await set.restartDead();

      // Convergence, on whichever replica leads.
      const deadline = performance.now() + convergeTimeoutMs;
      let convergedAt: number | undefined;
      let services: { name: string; state: ServiceState }[] = [];
      while (performance.now() < deadline) {
        try {
          services = (await clients.onLeader((c) => c.listServices({}), 5000)).services.map((s) => ({ name: s.name, state: s.state }));
          const names = new Set(services.map((s) => s.name));
          if (
            services.every((s) => s.state === ServiceState.RUNNING || s.state === ServiceState.QUARANTINED) &&
            [...mustGo].every((n) => !names.has(n)) &&
            [...mustExist].every((n) => names.has(n))
          ) {
            convergedAt = performance.now();
            break;
          }
        } catch {
          // no leader yet
        }
        await sleep(50);
      }
      const names = new Set(services.map((s) => s.name));
      if (convergedAt === undefined) {
        const waiting = services.filter((s) => s.state !== ServiceState.RUNNING).map((s) => `${s.name}=${ServiceState[s.state]}`);
        const lost = [...mustExist].filter((n) => !names.has(n)).map((n) => `${n} missing`);
        const stuck = [...mustGo].filter((n) => names.has(n)).map((n) => `${n} not removed`);
        violate(i, `not converged ${convergeTimeoutMs} ms after the kill: ${[...waiting, ...lost, ...stuck].join(", ")}`);
      }
      for (const s of services) if (s.state === ServiceState.QUARANTINED) violate(i, `${s.name} is quarantined`);
      for (const n of [...mustGo]) {
        if (!names.has(n)) {
          mustGo.delete(n);
          removalsDone.add(n);
        }
      }
      present = [...names].filter((n) => !mustGo.has(n));
      for (const n of present) mustExist.add(n);

      // The machine: owned by a service, one live task per name.
      const ids = await clients.onLeader((c) => knownTaskIds(c, present), 10_000).catch(() => new Set<string>());
      const alive = new Set(present);
      let problems = worldProblems(dataDir, alive, ids);
      const duplicates = new Set(problems.duplicates);
      const settleBy = performance.now() + 10_000;
      while (problems.unsettled.length > 0 && performance.now() < settleBy) {
        await sleep(200);
        const again = await clients.onLeader((c) => knownTaskIds(c, present), 5000).catch(() => ids);
        problems = worldProblems(dataDir, alive, again);
        for (const d of problems.duplicates) duplicates.add(d);
      }
      for (const d of duplicates) violate(i, d);
      for (const p of problems.unsettled) violate(i, `${p} (still after 10 s)`);

      // One leader at a time, so far.
      for (const p of leaderOverlaps(leaderIntervals(set.all, Date.now()))) violate(i, p);
      // The watcher saw each completed removal end (given a moment to resume).
      const ended = [...removalsDone];
      const terminal = (e: { kind: UninstallEventKind }): boolean => e.kind === UninstallEventKind.COMPLETED || e.kind === UninstallEventKind.FORCED;
      for (const [who, w] of [["the resuming WatchUninstall loop", watcher], ["the typed client's followUninstall", follower!]] as const) {
        if (!(await w.waitFor(ended, terminal, 15_000))) {
          const missing = ended.filter((n) => !w.events.some((e) => e.name === n && terminal(e)));
          const failure = w instanceof FollowingUninstallWatcher && w.failure !== undefined ? ` (it stopped: ${(w.failure as Error).message})` : "";
          violate(i, `${who} has not seen the end of ${missing.join(", ")} 15 s after it${failure}`);
        }
        for (const p of uninstallEventProblems(w.events, [])) violate(i, `${who}: ${p}`);
      }

      const convergedMs = convergedAt === undefined ? undefined : convergedAt - lastKill;
      const leaderChanged = slots[leaderSlot()] !== leaderBefore;
      results.push({ iteration: i, action, kill, failoverMs, servingAgainMs, leaderChanged, convergedMs });
      log(
        `#${i} ${action}${action === "put" ? ` ${name} (${kind})` : action === "uninstall" ? ` ${target}` : ""} kill=${kill}${detail} acked=${acked}` +
          `${failoverMs === undefined ? "" : ` failover=${failoverMs.toFixed(0)}ms`}${servingAgainMs === undefined ? "" : ` serving-again=${servingAgainMs.toFixed(0)}ms`} converged=${convergedMs === undefined ? "never" : `${convergedMs.toFixed(0)}ms`}` +
          ` services=${present.length} leader=${slots[leaderSlot()]?.name ?? "none"}${leaderChanged ? " (changed)" : ""}`,
      );
    }
    for (const p of uninstallEventProblems(watcher?.events ?? [], removalsDone)) violate(results.length, `the resuming WatchUninstall loop: ${p}`);
    for (const p of uninstallEventProblems(follower?.events ?? [], removalsDone)) violate(results.length, `the typed client's followUninstall: ${p}`);
  } finally {
    await watcher?.close();
    await follower?.close();
    clients.close();
    await set.close();
    const zk = zkSlot.server;
    if (zk) {
      try {
        process.kill(zk.pid, "SIGCONT");
      } catch {
        // gone
      }
    }
    await stopAgent(agentDir, { killTasks: true }).catch(() => false);
    const killed = await killLocalProcesses(dataDir);
    if (killed > 0) log(`clean-up: killed the task processes still running (${killed} signals)`);
    await zk?.stop();
    if (violations.length === 0 && !options.keep) rmSync(dir, { recursive: true, force: true });
  }
  return {
    seed: options.seed,
    replicas,
    sessionTimeoutS,
    iterations: results.length,
    puts,
    putsAcked,
    uninstalls,
    uninstallsAcked,
    kills,
    replicaStarts: set.all.length,
    selfExits,
    leaderTerms: leaderIntervals(set.all, Date.now()).length,
    watchStreams: watcher?.streams ?? 0,
    watchEvents: watcher?.events.length ?? 0,
    followStreams: follower?.streams ?? 0,
    followEvents: follower?.events.length ?? 0,
    violations,
    results,
    wallMs: performance.now() - started,
    dir,
  };
}

/** Counts, violations, failover and convergence times (p50/p99/max), overall and per kill kind. */
export function replicatedSummaryLines(report: ReplicatedReport): string[] {
  const f = (v: number): string => (Number.isFinite(v) ? v.toFixed(0) : "—").padStart(6);
  const stats = (values: readonly number[]): string =>
    values.length === 0 ? "     —" : `p50 ${f(pct(values, 50))} p99 ${f(pct(values, 99))} max ${f(Math.max(...values))}`;
  const target = report.sessionTimeoutS * 1000 + 2000;
  const row = (label: string, rs: readonly ReplicatedIteration[]): string => {
    const fo = rs.flatMap((r) => (r.failoverMs === undefined ? [] : [r.failoverMs]));
    const back = rs.flatMap((r) => (r.servingAgainMs === undefined ? [] : [r.servingAgainMs]));
    const changed = rs.filter((r) => r.leaderChanged).length;
    const cv = rs.flatMap((r) => (r.convergedMs === undefined ? [] : [r.convergedMs]));
    const never = rs.length - cv.length;
    return (
      `  ${label.padEnd(14)} n=${String(rs.length).padStart(3)}  failover ${stats(fo)}${fo.length > 0 ? ` (p99 ≤ ${target}: ${pct(fo, 99) <= target ? "ok" : "MISSED"})` : ""}` +
      (back.length > 0 ? ` | ZooKeeper back → serving ${stats(back)}` : "") +
      ` | converged after the kill ${stats(cv)}${never > 0 ? ` (${never} never)` : ""} | leader changed ${changed}×  (ms)`
    );
  };
  return [
    `replicated chaos run: seed ${report.seed}, ${report.replicas} replicas, session timeout ${report.sessionTimeoutS} s, ${report.iterations} iterations in ${(report.wallMs / 1000).toFixed(1)} s`,
    `  actions: ${report.puts} puts (${report.putsAcked} acknowledged), ${report.uninstalls} uninstalls (${report.uninstallsAcked} acknowledged)`,
    `  kills: ${REPLICA_KILLS.map((k) => `${k} ${report.kills[k]}`).join(", ")}; replica starts ${report.replicaStarts}, leader terms ${report.leaderTerms}`,
    `  replicas that exited by themselves (started again): ${report.selfExits.length}`,
    ...report.selfExits.map((e) => `    ${e}`),
    `  WatchUninstall clients: the harness's resuming loop ${report.watchEvents} events over ${report.watchStreams} streams; the typed client's followUninstall ${report.followEvents} events over ${report.followStreams} streams`,
    `  violations: ${report.violations.length}`,
    ...report.violations.map((v) => `    seed ${v.seed} iteration ${v.iteration}: ${v.what}`),
    ...(report.violations.length > 0 ? [`  logs and data kept in ${report.dir}`] : []),
    "  times (failover: the leader's kill → another replica answers PutService OK):",
    row("all", report.results),
    ...REPLICA_KILLS.map((k) => row(k, report.results.filter((r) => r.kill === k))),
  ];
}
