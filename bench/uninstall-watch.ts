/**
 * Bench (f): WatchUninstall fan-out. The server — the real AdminServer over a real
 * UninstallEventLog on the default store (SQLite in a fresh directory, fsync per write;
 * BENCH_STORE=memory for the memory store) — runs in a child process (this file with `server`),
 * the 1,000 watchers in this one, on 4 channels. Figures are printed, never asserted.
 *
 * - Memory: the server's heap (after gc) and RSS before and after 1,000 idle watchers subscribe.
 * - Latency, wildcard: 1,000 watchers of every service (names empty); the server publishes 100
 *   COMPLETED events 100 ms apart (after 20 warm-up ones); each carries `process.hrtime.bigint()`
 *   taken before its store write (CLOCK_MONOTONIC, the same clock in both processes) in
 *   `message`, so a receipt's latency is "final step's write started" → "watcher has the decoded
 *   event". 100,000 receipts.
 * - Latency, named: 1,000 watchers of one service each; the server completes the 1,000 services
 *   2 ms apart; every stream gets its COMPLETED and ends.
 * Target (issue 5, item 8): p99 ≤ 50 ms.
 * Usage: npx tsx bench/uninstall-watch.ts [watchers=1000]
 */
import { spawnAsking } from "./child-ask.js";
import { setMaxListeners } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { MultiServiceAdmin, createPromiseClient } from "../src/client/index.js";
import type { PromiseClient } from "../src/client/index.js";
import type { AdminApi as Api, UninstallEventView as View } from "../src/engine/admin-api.js";
import { kb, machine, mb, ms, summarize, table, verdict } from "./stats.js";

const here = fileURLToPath(import.meta.url);
const CHANNELS = 4;
const WILDCARD_EVENTS = Number(process.env["BENCH_EVENTS"] ?? "100");
const WILDCARD_INTERVAL_MS = Number(process.env["BENCH_INTERVAL_MS"] ?? "100");
const NAMED_INTERVAL_MS = 2;
const TARGET_P99_MS = 50;
const name = (i: number): string => `svc-${String(i).padStart(4, "0")}`;
const sleep = (msDelay: number): Promise<void> => new Promise((r) => setTimeout(r, msDelay));

if (process.argv[2] === "server") await server(Number(process.argv[3] ?? "1000"));
else await client(Number(process.argv[2] ?? "1000"));

// --- the server child -------------------------------------------------------------------------

async function server(services: number): Promise<void> {
  const { AdminServer } = await import("../src/adapters/grpc/server.js");
  const { SystemClock } = await import("../src/adapters/clock.js");
  const { MemoryPersister } = await import("../src/adapters/persister/memory-persister.js");
  const { SqlitePersister } = await import("../src/adapters/persister/sqlite-persister.js");
  const { SchedulerError } = await import("../src/domain/errors.js");
  const { UninstallEventLog } = await import("../src/engine/uninstall-events.js");

  const dir = process.env["BENCH_STORE"] === "memory" ? undefined : mkdtempSync(join(tmpdir(), "corral-bench-watch-"));
  const store = dir === undefined ? new MemoryPersister() : SqlitePersister.open(join(dir, "state.db"));
  const log = await UninstallEventLog.load(store, new SystemClock());
  const known = new Set(Array.from({ length: services }, (_, i) => name(i)));
  const no = (): never => {
    throw new SchedulerError("unimplemented", "not in this bench");
  };
  const api: Api = {
    putService: async () => no(),
    uninstallService: async () => no(),
    watchUninstall: (names, after, signal) => handing(log.watch(names, after, signal, (n) => known.has(n))),
    listServices: () => [],
    getService: () => no(),
    getPlan: () => no(),
    getScheduler: () => no(),
  };
  // The server's share: the handler asks for the next event right after `call.write()` of
  // the previous one returned (serialized, queued on the HTTP/2 stream). Per event, the last
  // watcher's copy counts.
  const lastHanded = new Map<bigint, number>();
  function handing(events: AsyncIterableIterator<View>): AsyncIterable<View> {
    let written: View | undefined;
    return {
      [Symbol.asyncIterator]: () => ({
        next: () => {
          if (written !== undefined) {
            lastHanded.set(written.sequence, Number(process.hrtime.bigint() - BigInt(written.message)) / 1e6);
          }
          return events.next().then((r) => {
            written = r.done === true ? undefined : r.value;
            return r;
          });
        },
        return: () => events.return!(),
      }),
    };
  }
  const handedSince = (from: bigint): number[] => [...lastHanded].filter(([s]) => s > from).map(([, v]) => v);
  const admin = new AdminServer({ api, logger: pino({ level: "silent" }) });
  const { port } = await admin.listen("127.0.0.1:0");
  const say = (o: object): boolean => process.stdout.write(`${JSON.stringify(o)}\n`);

  const publish = async (serviceName: string): Promise<void> => {
    const stamp = process.hrtime.bigint().toString();
    const { event, ops } = log.prepare({ name: serviceName, kind: "COMPLETED", stepsComplete: 3, stepsTotal: 3, leftovers: [], message: stamp });
    await store.multi(ops);
    log.publish(event);
  };
  const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

  const lines = createInterface({ input: process.stdin });
  lines.on("line", (line) => {
    void (async () => {
      const cmd = JSON.parse(line) as { op: string; n?: number; intervalMs?: number };
      if (cmd.op === "mem") {
        gc();
        gc();
        const m = process.memoryUsage();
        say({ heapUsed: m.heapUsed, rss: m.rss, watchers: log.watcherCount() });
      } else if (cmd.op === "logmem") {
        // The log's own share of an idle watcher: the same number of watches without gRPC.
        gc();
        gc();
        const before = process.memoryUsage().heapUsed;
        const controller = new AbortController();
        const pending = Array.from({ length: cmd.n! }, () => log.watch([], log.lastSequence(), controller.signal, () => true).next());
        gc();
        gc();
        const after = process.memoryUsage().heapUsed;
        controller.abort();
        await Promise.all(pending);
        say({ heapDelta: after - before });
      } else if (cmd.op === "watchers") {
        say({ watchers: log.watcherCount() });
      } else if (cmd.op === "wildcard") {
        const from = log.lastSequence();
        for (let i = 0; i < cmd.n!; i++) {
          await publish(name(i % services));
          await sleep(cmd.intervalMs!);
        }
        say({ published: cmd.n, stats: log.stats(), handed: handedSince(from) });
      } else if (cmd.op === "named") {
        for (let i = 0; i < services; i++) {
          known.delete(name(i));
          await publish(name(i));
          await sleep(cmd.intervalMs!);
        }
        say({ published: services, stats: log.stats() });
      } else if (cmd.op === "stop") {
        stopping ??= (async () => {
          await admin.stop(1000);
          await store.close();
          if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
        })();
        await stopping;
        process.exit(0);
      }
    })();
  });
  // stdin ends right after "stop": exit once the stop is done, so the store's directory goes too.
  let stopping: Promise<void> | undefined;
  lines.on("close", () => void (stopping ?? Promise.resolve()).finally(() => process.exit(0)));
  say({ address: `127.0.0.1:${port}`, store: process.env["BENCH_STORE"] === "memory" ? "memory" : "sqlite" });
}

// --- the watchers -----------------------------------------------------------------------------

async function client(watchers: number): Promise<void> {
  const profile = process.env["BENCH_SERVER_PROF"] === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${process.env["BENCH_SERVER_PROF"]}`];
  const { child, ask } = spawnAsking([...profile, "--expose-gc", "--import", "tsx", here, "server", String(watchers)]);
  const { address, store } = await ask<{ address: string; store: string }>(undefined, 30_000);
  const clients: PromiseClient<typeof MultiServiceAdmin>[] = Array.from({ length: CHANNELS }, () =>
    createPromiseClient(MultiServiceAdmin, address, undefined, { channelOptions: { "grpc.use_local_subchannel_pool": 1 } }),
  );
  const untilWatchers = async (n: number): Promise<void> => {
    for (;;) {
      const { watchers: w } = await ask<{ watchers: number }>({ op: "watchers" });
      if (w === n) return;
      await sleep(50);
    }
  };

  interface Opened {
    readonly latencies: number[];
    readonly done: Promise<void>;
    readonly controller: AbortController;
  }
  let failures = 0;
  const open = (names: (i: number) => string[], after: bigint): Opened => {
    const latencies: number[] = [];
    const controller = new AbortController();
    setMaxListeners(watchers + 10, controller.signal); // one signal cancels every stream
    const streams = Array.from({ length: watchers }, async (_, i) => {
      try {
        const stream = clients[i % CHANNELS]!.watchUninstall({ names: names(i), after }, { signal: controller.signal });
        for await (const { event } of stream) {
          const now = process.hrtime.bigint();
          latencies.push(Number(now - BigInt(event!.message)) / 1e6);
        }
      } catch (err) {
        if (!controller.signal.aborted && failures++ < 3) console.error("watch failed:", (err as Error).message);
      }
    });
    return { latencies, controller, done: Promise.all(streams).then(() => undefined) };
  };

  console.log(`(f) WatchUninstall fan-out — ${machine()}`);
  console.log(`server: AdminServer + UninstallEventLog in a child process, store ${store}; ${watchers} watchers on ${CHANNELS} channels in this process`);

  // Memory of idle watchers.
  const base = await ask<{ heapUsed: number; rss: number }>({ op: "mem" });
  const wildcard = open(() => [], 0n);
  await untilWatchers(watchers);
  const idle = await ask<{ heapUsed: number; rss: number; watchers: number }>({ op: "mem" });
  const heapDelta = idle.heapUsed - base.heapUsed;
  const rssDelta = idle.rss - base.rss;
  const logOnly = await ask<{ heapDelta: number }>({ op: "logmem", n: watchers });

  // Latency, wildcard: a short warm-up (20 events, not counted), then the measured events.
  await ask({ op: "wildcard", n: 20, intervalMs: WILDCARD_INTERVAL_MS });
  await sleep(200);
  wildcard.latencies.length = 0;
  const wildcardRun = await ask<{ stats: object; handed: number[] }>({ op: "wildcard", n: WILDCARD_EVENTS, intervalMs: WILDCARD_INTERVAL_MS });
  await sleep(500); // the last receipts
  const w = summarize(wildcard.latencies);
  wildcard.controller.abort();
  await wildcard.done;
  await untilWatchers(0);

  // Latency, named: one service per watcher; every stream ends with its COMPLETED.
  const last = BigInt(20 + WILDCARD_EVENTS);
  const named = open((i) => [name(i)], last);
  await untilWatchers(watchers);
  const namedRun = await ask<{ stats: object }>({ op: "named", intervalMs: NAMED_INTERVAL_MS });
  await named.done;
  const n = summarize(named.latencies);

  console.log(
    table([
      ["scenario", "watchers", "events", "receipts", "p50", "p99", "max", `p99 ≤ ${TARGET_P99_MS} ms`],
      ["all services (names empty)", String(watchers), String(WILDCARD_EVENTS), String(w.n), ms(w.p50), ms(w.p99), ms(w.max), verdict(w.p99 <= TARGET_P99_MS)],
      ["one service each (ends on COMPLETED)", String(watchers), String(watchers), String(n.n), ms(n.p50), ms(n.p99), ms(n.max), verdict(n.p99 <= TARGET_P99_MS)],
    ]),
  );
  const h = summarize(wildcardRun.handed);
  console.log(
    `all services, the server's share: write started → grpc-js write() of the last watcher's copy returned, per event: ` +
      `p50 ${ms(h.p50)}, p99 ${ms(h.p99)}, max ${ms(h.max)} (the rest is the wire and this process decoding ${watchers} streams)`,
  );
  console.log(
    `server memory of ${idle.watchers} idle watchers: heap +${mb(heapDelta)} (${kb(heapDelta / watchers)} each), ` +
      `RSS +${mb(rssDelta)} (${kb(rssDelta / watchers)} each), gRPC call state included; ` +
      `of which the event log's watchers: ${kb(logOnly.heapDelta / watchers)} each (no target)`,
  );
  console.log(`failed streams: ${failures}; log after the runs: ${JSON.stringify(wildcardRun.stats)} / ${JSON.stringify(namedRun.stats)}`);

  for (const c of clients) c.close();
  child.stdin.end(`${JSON.stringify({ op: "stop" })}\n`);
  await new Promise((resolve) => child.once("exit", resolve));
}
