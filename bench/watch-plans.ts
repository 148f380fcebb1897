/**
 * Bench: WatchPlans fan-out (issue 13, item 11). The server — the real scheduler (simulated
 * cluster of 50 agents, SystemClock) behind the real AdminServer, on SQLite in a fresh directory
 * (fsync per write; BENCH_STORE=memory for the memory store) — runs in a child process (this
 * file with `server`); the 1,000 watchers in this one, on 4 channels. Printed, never asserted.
 *
 * The child deploys S hello-world services (BENCH_SERVICES, 100), then fails one running task
 * every BENCH_INTERVAL_MS (1000) in turn across the services, BENCH_FAILURES (20) times. Each
 * failure makes its service's recovery plan change step by step (a recovery step appears, is
 * launched, completes: ~9 events of the step, its phase and its plan within ~100 ms), so 1,000
 * watchers of every service take ~9,000 events a second — about what one client process decodes
 * on 2 cores (bench f); faster, the receipts queue up and latency measures the client's backlog.
 * - step change → watcher: from the event's time (the engine stamps it when it records the
 *   change, right after the unit of work that made it) to the watcher's loop having the decoded
 *   event. Both are Date.now() (the same wall clock in both processes, 1 ms resolution: ±1 ms).
 *   Every receipt of every event counts.
 * - task failure → watcher: from the simulated failure to the receipt of its service's first
 *   event after it; adds the scheduler's reaction (status batch, the next offer cycle).
 * Scenarios: 1,000 watchers of every service (names empty); 1,000 watchers of one service each
 * (watcher i follows service i mod S).
 * Usage: npx tsx bench/watch-plans.ts [watchers=1000]
 */
import { setMaxListeners } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { MultiServiceAdmin, createPromiseClient } from "../src/client/index.js";
import type { PromiseClient } from "../src/client/index.js";
import type { AdminApi, PlanEventView } from "../src/engine/admin-api.js";
import { spawnAsking } from "./child-ask.js";
import { machine, ms, summarize, table, verdict } from "./stats.js";

const here = fileURLToPath(import.meta.url);
const CHANNELS = 4;
const SERVICES = Number(process.env["BENCH_SERVICES"] ?? "100");
const FAILURES = Number(process.env["BENCH_FAILURES"] ?? "20");
const INTERVAL_MS = Number(process.env["BENCH_INTERVAL_MS"] ?? "1000");
const TARGET_P99_MS = 50;
const name = (i: number): string => `svc-${String(i).padStart(4, "0")}`;
const sleep = (msDelay: number): Promise<void> => new Promise((r) => setTimeout(r, msDelay));
/** The engine stamps events with Date.now(): receipts and failures are stamped with the same clock. */
const wallNow = (): number => Date.now();

if (process.argv[2] === "server") await server();
else await client(Number(process.argv[2] ?? "1000"));

// --- the server child -------------------------------------------------------------------------

async function server(): Promise<void> {
  const { AdminServer } = await import("../src/adapters/grpc/server.js");
  const { CryptoRandom, SystemClock } = await import("../src/adapters/clock.js");
  const { SimulatedCluster } = await import("../src/adapters/cluster/simulated-cluster.js");
  const { MemoryPersister } = await import("../src/adapters/persister/memory-persister.js");
  const { SqlitePersister } = await import("../src/adapters/persister/sqlite-persister.js");
  const { DEFAULT_RUNNER_OPTIONS, MultiServiceScheduler } = await import("../src/engine/scheduler.js");

  const dir = process.env["BENCH_STORE"] === "memory" ? undefined : mkdtempSync(join(tmpdir(), "corral-bench-plans-"));
  const store = dir === undefined ? new MemoryPersister() : SqlitePersister.open(join(dir, "state.db"));
  const clock = new SystemClock({ unref: false });
  const random = new CryptoRandom();
  // 3 tasks of ≤ 0.5 cpus, ≤ 512 MB and ≤ 50 MB disk each per service, spread over 50 agents, doubled.
  const each = Math.ceil((SERVICES * 3 * 2) / 50);
  const agent = { cpus: each * 0.5, memMb: each * 512, diskMb: each * 64, ports: { begin: 31000, end: 32000 } };
  const cluster = new SimulatedCluster({ agents: Array.from({ length: 50 }, () => agent), clock, random });
  const scheduler = new MultiServiceScheduler(
    { persister: store, driver: cluster, clock, random, log: pino({ level: "silent" }) },
    { ...DEFAULT_RUNNER_OPTIONS, framework: { name: "corral", role: "corral-role", principal: "corral-principal" } },
  );
  await scheduler.start();
  let open = 0;
  const api: AdminApi = {
    putService: (i) => scheduler.putService(i),
    uninstallService: (n) => scheduler.uninstallService(n),
    watchUninstall: (n, a, s) => scheduler.watchUninstall(n, a, s),
    listServices: () => scheduler.listServices(),
    getService: (n) => scheduler.getService(n),
    getPlan: (n, p) => scheduler.getPlan(n, p),
    getScheduler: () => scheduler.getScheduler(),
    watchPlans: (names, after, signal) => counted(scheduler.watchPlans(names, after, signal)[Symbol.asyncIterator]()),
  };
  // The server's share: the handler asks for the next event right after `call.write()` of the
  // previous one returned. Per event, the last watcher's copy counts.
  const handed = new Map<bigint, number>();
  function counted(events: AsyncIterator<PlanEventView>): AsyncIterable<PlanEventView> {
    open++;
    let closed = false;
    let written: PlanEventView | undefined;
    const close = (): void => {
      if (!closed) open--;
      closed = true;
    };
    return {
      [Symbol.asyncIterator]: () => ({
        next: () => {
          if (written !== undefined) handed.set(written.sequence, Date.now() - written.timeMs);
          return events.next().then(
            (r) => {
              if (r.done === true) close();
              written = r.done === true ? undefined : r.value;
              return r;
            },
            (err: unknown) => {
              close();
              throw err;
            },
          );
        },
        return: () => (close(), events.return!()),
      }),
    };
  }
  const admin = new AdminServer({ api, logger: pino({ level: "silent" }) });
  const { port } = await admin.listen("127.0.0.1:0");
  const say = (o: object): boolean => process.stdout.write(`${JSON.stringify(o, (_, v: unknown) => (typeof v === "bigint" ? v.toString() : v))}\n`);
  const spec = readFileSync(fileURLToPath(new URL("../examples/hello-world.yml", import.meta.url)), "utf8");
  const allComplete = (): boolean => scheduler.listServices().every((s) => s.plans.every((p) => p.status === "COMPLETE"));
  let next = 0;

  const lines = createInterface({ input: process.stdin });
  lines.on("line", (line) => {
    void (async () => {
      const cmd = JSON.parse(line) as { op: string; n?: number; intervalMs?: number };
      if (cmd.op === "deploy") {
        const t0 = performance.now();
        for (let i = 0; i < SERVICES; i++) await scheduler.putService({ name: name(i), spec, parameters: {} });
        while (!allComplete()) await sleep(20);
        say({ deployedMs: performance.now() - t0, last: await lastSequence() });
      } else if (cmd.op === "watchers") {
        say({ watchers: open });
      } else if (cmd.op === "fail") {
        const failures: { service: string; atMs: number }[] = [];
        const from = await lastSequence();
        for (let i = 0; i < cmd.n!; i++) {
          const service = name(next++ % SERVICES);
          const task = cluster.tasks().find((t) => t.state === "TASK_RUNNING" && t.taskId.startsWith(`${service}__world-0`));
          if (task === undefined) continue;
          failures.push({ service, atMs: wallNow() });
          cluster.failTask(task.taskId);
          await sleep(cmd.intervalMs!);
        }
        while (!allComplete()) await sleep(20);
        await sleep(200);
        const last = await lastSequence();
        say({ failures, last, handed: [...handed].filter(([seq]) => seq > from).map(([, v]) => v) });
      } else if (cmd.op === "stop") {
        await admin.stop(1000);
        await scheduler.stop();
        await cluster.close();
        cluster.stop();
        await store.close();
        if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
        process.exit(0);
      }
    })();
  });
  /** The last plan event: a watch of everything from the start, read to its end. */
  async function lastSequence(): Promise<bigint> {
    const controller = new AbortController();
    const it = scheduler.watchPlans([], 0n, controller.signal)[Symbol.asyncIterator]();
    let last = 0n;
    for (;;) {
      const r = await Promise.race([it.next(), new Promise<"idle">((resolve) => setImmediate(() => resolve("idle")))]);
      if (r === "idle" || r.done === true) break;
      last = r.value.sequence;
    }
    controller.abort();
    await it.return?.();
    return last;
  }
  say({ address: `127.0.0.1:${port}`, store: dir === undefined ? "memory" : "sqlite" });
}

// --- the watchers -----------------------------------------------------------------------------

async function client(watchers: number): Promise<void> {
  const { child, ask } = spawnAsking(["--import", "tsx", here, "server"]);
  const { address, store } = await ask<{ address: string; store: string }>(undefined, 60_000);
  const clients: PromiseClient<typeof MultiServiceAdmin>[] = Array.from({ length: CHANNELS }, () =>
    createPromiseClient(MultiServiceAdmin, address, undefined, { channelOptions: { "grpc.use_local_subchannel_pool": 1 } }),
  );
  const untilWatchers = async (n: number): Promise<void> => {
    while ((await ask<{ watchers: number }>({ op: "watchers" })).watchers !== n) await sleep(50);
  };

  interface Receipt {
    readonly name: string;
    readonly atMs: number;
    readonly changeMs: number;
  }
  let failed = 0;
  const open = (names: (i: number) => string[], after: bigint) => {
    const receipts: Receipt[][] = Array.from({ length: watchers }, () => []);
    const controller = new AbortController();
    setMaxListeners(watchers + 10, controller.signal);
    const done = Promise.all(
      receipts.map(async (mine, i) => {
        try {
          for await (const { event } of clients[i % CHANNELS]!.watchPlans({ names: names(i), after }, { signal: controller.signal })) {
            const at = wallNow();
            const t = event!.time!;
            mine.push({ name: event!.name, atMs: at, changeMs: Number(t.seconds) * 1000 + t.nanos / 1e6 });
          }
        } catch (err) {
          if (!controller.signal.aborted && failed++ < 3) console.error("watch failed:", (err as Error).message);
        }
      }),
    );
    return { receipts, controller, done };
  };

  console.log(`WatchPlans fan-out — ${machine()}`);
  const deployed = await ask<{ deployedMs: number; last: string }>({ op: "deploy" });
  console.log(
    `server: the scheduler (simulated cluster, ${SERVICES} hello-world services deployed in ${ms(deployed.deployedMs, 0)}) behind AdminServer ` +
      `in a child process, store ${store}; ${watchers} watchers on ${CHANNELS} channels in this process; ` +
      `${FAILURES} task failures ${INTERVAL_MS} ms apart per scenario`,
  );
  const rows: string[][] = [["scenario", "latency from", "receipts", "p50", "p99", "max", `p99 ≤ ${TARGET_P99_MS} ms`]];
  let after = BigInt(deployed.last);
  const scenarios: [string, (i: number) => string[]][] = [
    ["all services (names empty)", () => []],
    ["one service each", (i) => [name(i % SERVICES)]],
  ];
  for (const [label, names] of scenarios) {
    const w = open(names, after);
    await untilWatchers(watchers);
    const run = await ask<{ failures: { service: string; atMs: number }[]; last: string; handed: number[] }>({ op: "fail", n: FAILURES, intervalMs: INTERVAL_MS });
    after = BigInt(run.last);
    // Until every receipt is in: nothing new for a second (at most a minute).
    for (let n = -1, i = 0; i < 60 && n !== w.receipts.reduce((c, r) => c + r.length, 0); i++) {
      n = w.receipts.reduce((c, r) => c + r.length, 0);
      await sleep(1000);
    }
    w.controller.abort();
    await w.done;
    await untilWatchers(0);
    const all = w.receipts.flat();
    const change = summarize(all.map((r) => r.atMs - r.changeMs));
    // Per failure and watcher of its service: the first event of the service after the failure.
    const reaction: number[] = [];
    for (const mine of w.receipts) {
      for (const f of run.failures) {
        const first = mine.find((r) => r.name === f.service && r.changeMs >= f.atMs);
        if (first) reaction.push(first.atMs - f.atMs);
      }
    }
    const r = summarize(reaction);
    rows.push([label, "step change", String(change.n), ms(change.p50), ms(change.p99), ms(change.max), verdict(change.p99 <= TARGET_P99_MS)]);
    rows.push(["", "task failure", String(r.n), ms(r.p50), ms(r.p99), ms(r.max), ""]);
    const h = summarize(run.handed);
    rows.push(["", "step change → server wrote the last copy", String(h.n), ms(h.p50), ms(h.p99), ms(h.max), ""]);
  }
  console.log(table(rows));
  console.log(`failed streams: ${failed}; event times and receipts are Date.now() (1 ms resolution).`);
  for (const c of clients) c.close();
  child.stdin.end(`${JSON.stringify({ op: "stop" })}\n`);
  await new Promise((resolve) => child.once("exit", resolve));
}
