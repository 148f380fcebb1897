/**
 * Bench (h): hostile input (issue 10, deliverables 4 and 7). The server — the real composition
 * root, `startCorral` (sim cluster of 150 agents, memory store unless BENCH_STORE, logger
 * silent, `--spec-workers` from BENCH_SPEC_WORKERS, default 1) — runs in a child process (this
 * file with `server`). 16 clients, each on its own connection, send a weighted mix of bad and
 * maximal PutService requests (below) for BENCH_SECONDS (20) or BENCH_REQUESTS (10,000), whichever
 * ends first, while a health checker in a process of its own (so the clients' encoding of 1 MiB
 * requests cannot delay it) calls grpc.health.v1.Health/Check every 50 ms. Printed: requests/s, request p50/p99 (overall and per input class, with the
 * status codes received), health-check p50/p99/max during the mix, the server's event-loop delay,
 * and the server's RSS (/proc/<pid>/status VmRSS) before and after. Every request differs from
 * the others of its class (a counter in it), so no cache of the server helps.
 * Target (issue 10): health-check p99 ≤ 50 ms. Figures are printed, never asserted.
 *
 * `builds` mode prints, without gRPC, how long each input class holds the thread that builds it
 * (render + YAML + validation, `createSpecServiceFactory().build`), and the protobuf decode of
 * the request: what blocks the event loop when specs are built on it (`--spec-workers 0`).
 *
 * Usage: npx tsx bench/bad-input.ts                  the mix (BENCH_SPEC_WORKERS=0: builds on the loop;
 *                                                    BENCH_SKIP=label part,…: leave classes out)
 *        npx tsx bench/bad-input.ts builds           per-class build and decode times, in-process
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import { Health, MultiServiceAdmin, createPromiseClient } from "../src/client/index.js";
import { mb, ms, summarize, table, verdict } from "./stats.js";

const here = fileURLToPath(import.meta.url);
const CLIENTS = 16;
const HEALTH_EVERY_MS = 50;
const TARGET_HEALTH_P99_MS = 50;
const SECONDS = Number(process.env["BENCH_SECONDS"] ?? "20");
const REQUESTS = Number(process.env["BENCH_REQUESTS"] ?? "10000");
const WORKERS = process.env["BENCH_SPEC_WORKERS"] ?? "1";
const STORE = process.env["BENCH_STORE"] ?? "memory";
const AGENTS = "150";
/** Input classes left out of the mix: comma-separated parts of their labels (BENCH_SKIP). */
const SKIP = (process.env["BENCH_SKIP"] ?? "").split(",").filter((x) => x !== "");
const PUT_PATH = `/${MultiServiceAdmin.typeName}/PutService`;

// --- the input classes ------------------------------------------------------------------------

const MiB = 1024 * 1024;
/** Room for the name, the field tags and lengths under the server's 1 MiB request limit. */
const NEAR_MiB = MiB - 256;
const SIMPLE = readFileSync(new URL("../examples/simple.yml", import.meta.url), "utf8");

interface Put {
  readonly name: string;
  readonly spec: string;
  readonly parameters?: Record<string, string>;
}
interface InputClass {
  readonly label: string;
  readonly weight: number;
  /** The i-th request of this class: a PutService request, or raw bytes for the request body. */
  make(i: number): Put | Buffer;
}

function podsSpec(pods: number, cmdChars: number): string {
  let s = "name: {{SERVICE_NAME}}\npods:\n";
  for (let p = 0; p < pods; p++) {
    s += `  p${p}:\n    count: 1\n    tasks:\n      t:\n        goal: RUNNING\n        cmd: echo ${"x".repeat(cmdChars)} && sleep 1000\n        cpus: 0.01\n        memory: 8\n`;
  }
  return s;
}
const fill = (chars: number, unit: string): string => unit.repeat(Math.floor(chars / unit.length));
const SMALL_INVALID = [
  "name: {{SERVICE_NAME}}\npods: [\n",
  SIMPLE.replace("cpus: 0.1", "cpus: lots").replace("count: 1", "count: -1"),
  SIMPLE.replace("memory: 256", "memory: 1e308\n        volume: {path: /abs, type: ROOT, size: 0}"),
  "name: {{SERVICE_NAME}}\npods:\n  p:\n    count: {{N}}\n",
  `${SIMPLE}  hello:\n    count: 2\n`,
  "{{.}}\n",
  "name: {{SERVICE_NAME}\n",
];
const MAX_VALID = podsSpec(100, 800); // ~90 KiB: under the 100 KiB context limit, accepted
const MiB_VALID_SHAPE = podsSpec(100, 10_300); // ~1 MiB of well-formed YAML: over maxSpecChars
const SLOW_YAML = `name: {{SERVICE_NAME}}\npods:\n${fill(255 * 1024, "  - [a, {b: c}, ]: x\n")}`; // parser's worst: just under maxSpecChars
const DEEP_FLOW = `name: {{SERVICE_NAME}}\npods: ${"[".repeat(100_000)}${"]".repeat(100_000)}\n`;
const BIG_MAP = Object.fromEntries(Array.from({ length: 36_000 }, (_, k) => [`K${k}`, "vvvvvvvvvvvvvvvv"]));
const VARS_1000 = Object.fromEntries(Array.from({ length: 1000 }, (_, k) => [`V${k}`, "v"]));
const MANY_TAGS = `name: {{SERVICE_NAME}}\n${Array.from({ length: 50_000 }, (_, k) => `{{V${k % 1000}}}`).join(" ")}\n`;
let seed = 0x5eed;
function random(): number {
  seed = (seed * 1103515245 + 12345) >>> 0;
  return seed / 2 ** 32;
}
function randomText(chars: number): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz :-[]{}#&*!|>'\"%@`\n\t";
  let s = "";
  for (let k = 0; k < 4096; k++) s += alphabet[Math.floor(random() * alphabet.length)];
  return s.repeat(Math.ceil(chars / 4096)).slice(0, chars);
}
const GARBAGE_MiB = randomText(NEAR_MiB - 16);
const RANDOM_BYTES = Buffer.from(Array.from({ length: 64 * 1024 }, () => Math.floor(random() * 256)));

const CLASSES: readonly InputClass[] = [
  { label: "valid simple.yml", weight: 6, make: (i) => ({ name: `ok-${i}`, spec: SIMPLE }) },
  { label: "invalid small spec", weight: 6, make: (i) => ({ name: `bad-${i}`, spec: `# ${i}\n${SMALL_INVALID[i % SMALL_INVALID.length]!}` }) },
  { label: "valid ~90 KiB, 100 pods", weight: 0.5, make: (i) => ({ name: `max-${i}`, spec: `# ${i}\n${MAX_VALID}` }) },
  { label: "1 MiB valid-shaped spec", weight: 1, make: (i) => ({ name: `big-${i}`, spec: `# ${i}\n${MiB_VALID_SHAPE}`.slice(0, NEAR_MiB) }) },
  { label: "1 MiB garbage text", weight: 1, make: (i) => ({ name: `garbage-${i}`, spec: `${i}${GARBAGE_MiB}` }) },
  { label: "255 KiB slow invalid YAML", weight: 0.5, make: (i) => ({ name: `slow-${i}`, spec: `# ${i}\n${SLOW_YAML}` }) },
  { label: "200 KiB nested flow YAML", weight: 0.5, make: (i) => ({ name: `flow-${i}`, spec: `# ${i}\n${DEEP_FLOW}` }) },
  { label: "3,000 nested sections, set", weight: 0.5, make: (i) => ({ name: `sect-${i}`, spec: `${i}${"{{#A}}".repeat(3000)}x${"{{/A}}".repeat(3000)}`, parameters: { A: "1" } }) },
  { label: "5,000 nested sections", weight: 0.5, make: (i) => ({ name: `sect-${i}`, spec: `${i}${"{{#A}}x".repeat(5000)}${"{{/A}}".repeat(5000)}` }) },
  { label: "50,000 template tags", weight: 0.5, make: (i) => ({ name: `tags-${i}`, spec: `# ${i}\n${MANY_TAGS}`, parameters: VARS_1000 }) },
  { label: "1 MiB parameter value", weight: 1, make: (i) => ({ name: `param-${i}`, spec: `name: {{SERVICE_NAME}}\nx: {{P}}\n# ${i}\n`, parameters: { P: fill(NEAR_MiB - 64, "y") } }) },
  { label: "36,000 parameters (~1 MiB)", weight: 1, make: (i) => ({ name: `map-${i}`, spec: `# ${i}\n${SIMPLE}`, parameters: BIG_MAP }) },
  { label: "1 MiB name", weight: 1, make: (i) => ({ name: `${i}${fill(NEAR_MiB - 16, "a")}`, spec: "x" }) },
  { label: "1 MiB name of a/a/a/…", weight: 1, make: (i) => ({ name: `${i}/${fill(NEAR_MiB - 16, "a/")}`, spec: "x" }) },
  { label: "random bytes (64 KiB body)", weight: 2, make: (i) => Buffer.concat([Buffer.from(String(i)), RANDOM_BYTES]) },
  { label: "over the 1 MiB limit", weight: 1, make: (i) => ({ name: `huge-${i}`, spec: fill(MiB + 16, "z") }) },
];

/** Class of the i-th request: a fixed interleaving by weight (each class spread evenly). */
const SCHEDULE: number[] = (() => {
  const slots: number[] = [];
  const unit = Math.min(...CLASSES.map((c) => c.weight));
  CLASSES.forEach((c, k) => {
    if (SKIP.some((part) => c.label.includes(part))) return;
    for (let n = 0; n < Math.round(c.weight / unit); n++) slots.push(k);
  });
  // A deterministic shuffle, so heavy classes do not arrive in runs.
  for (let k = slots.length - 1; k > 0; k--) {
    const j = Math.floor(random() * (k + 1));
    [slots[k], slots[j]] = [slots[j]!, slots[k]!];
  }
  return slots;
})();

// --- modes ------------------------------------------------------------------------------------

if (process.argv[2] === "server") await server();
else if (process.argv[2] === "health") await healthChecker(process.argv[3]!);
else if (process.argv[2] === "builds") await builds();
else await mix();

async function server(): Promise<void> {
  const { monitorEventLoopDelay } = await import("node:perf_hooks");
  const { mkdtempSync, rmSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const { pino } = await import("pino");
  const { startCorral } = await import("../src/app.js");
  const { resolveOptions } = await import("../src/config.js");
  const dataDir = mkdtempSync(join(tmpdir(), "corral-bench-bad-"));
  const options = resolveOptions(
    ["--listen", "127.0.0.1:0", "--cluster", "sim", "--sim-agents", AGENTS, "--store", STORE, "--data-dir", dataDir, "--spec-workers", WORKERS],
    {},
  );
  const corral = await startCorral(options, pino({ level: "silent" }));
  const lag = monitorEventLoopDelay({ resolution: 5 });
  lag.enable();
  const stop = async (): Promise<void> => {
    lag.disable();
    await corral.stop();
    rmSync(dataDir, { recursive: true, force: true });
    process.exit(0);
  };
  createInterface({ input: process.stdin })
    .on("line", (line) => {
      if (line.trim() === "stats") {
        const round = (ns: number): number => Math.round(ns / 1e5) / 10;
        const services = corral.scheduler.listServices().length;
        process.stdout.write(`${JSON.stringify({ services, loopP99Ms: round(lag.percentile(99)), loopMaxMs: round(lag.max) })}\n`);
        lag.reset();
      }
      if (line.trim() === "stop") void stop();
    })
    .on("close", () => void stop());
  process.stdout.write(`${JSON.stringify({ address: corral.address })}\n`);
}

/**
 * The health checker, a process of its own so that the clients' work (encoding 1 MiB requests)
 * does not delay it: Health/Check every HEALTH_EVERY_MS on its own connection, whether or not
 * the previous one was answered; on `stop` it prints the latencies and exits.
 */
async function healthChecker(address: string): Promise<void> {
  const health = createPromiseClient(Health, address, undefined, { channelOptions: { "grpc.use_local_subchannel_pool": 1 }, defaultDeadlineMs: 30_000 });
  await health.check({ service: "" });
  const latencies: number[] = [];
  let failures = 0;
  const pending = new Set<Promise<void>>();
  const timer = setInterval(() => {
    const t = performance.now();
    const p: Promise<void> = health.check({ service: "" }).then(
      () => void latencies.push(performance.now() - t),
      () => void failures++,
    );
    pending.add(p);
    void p.finally(() => pending.delete(p));
  }, HEALTH_EVERY_MS);
  createInterface({ input: process.stdin }).on("line", (line) => {
    if (line.trim() !== "stop") return;
    clearInterval(timer);
    void Promise.all(pending).then(() => {
      process.stdout.write(`${JSON.stringify({ latencies, failures })}\n`, () => process.exit(0));
    });
  });
  process.stdout.write("ready\n");
}

/** In-process: the thread time of one build per class (fresh variant, so no cache) and of the decode. */
async function builds(): Promise<void> {
  const { create, fromBinary, toBinary } = await import("@bufbuild/protobuf");
  const { PutServiceRequestSchema } = await import("../gen/corral/v1/admin_pb.js");
  const { validateServiceName } = await import("../src/domain/names.js");
  const { createSpecServiceFactory } = await import("../src/engine/service-factory.js");
  const factory = createSpecServiceFactory();
  const rows = [["input class", "request", "decode", "name check", "build (max of 3)", "outcome"]];
  for (const c of CLASSES) {
    const sample = c.make(1);
    if (Buffer.isBuffer(sample)) {
      const t = performance.now();
      let outcome = "decoded";
      try {
        fromBinary(PutServiceRequestSchema, sample);
      } catch {
        outcome = "decode error";
      }
      rows.push([c.label, `${(sample.length / 1024).toFixed(0)} KiB`, ms(performance.now() - t, 1), "-", "-", outcome]);
      continue;
    }
    if (sample.spec.length > MiB) {
      rows.push([c.label, mb(sample.spec.length), "-", "-", "-", "refused by grpc-js (request limit)"]);
      continue;
    }
    let decode = 0;
    let nameCheck = 0;
    let build = 0;
    let outcome = "";
    for (let i = 1; i <= 3; i++) {
      const p = c.make(1000 + i) as Put;
      const bytes = toBinary(PutServiceRequestSchema, create(PutServiceRequestSchema, p));
      let t = performance.now();
      fromBinary(PutServiceRequestSchema, bytes);
      decode = Math.max(decode, performance.now() - t);
      t = performance.now();
      const invalidName = validateServiceName(p.name).length > 0;
      nameCheck = Math.max(nameCheck, performance.now() - t);
      t = performance.now();
      try {
        factory.build({ name: p.name, spec: p.spec, parameters: p.parameters ?? {}, generation: 1, createdMs: 0, updatedMs: 0 });
        outcome = "built";
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        outcome = typeof code === "string" ? code : `${(err as Error).name} (INTERNAL)`;
      }
      build = Math.max(build, performance.now() - t);
      if (invalidName) outcome = `invalid_argument (name)`;
      if (i === 3) rows.push([c.label, `${(bytes.length / 1024).toFixed(0)} KiB`, ms(decode, 1), ms(nameCheck, 1), ms(build, 1), outcome]);
    }
  }
  console.log("main-thread cost of one request per input class (this process, no gRPC; decode = protobuf-es fromBinary):");
  console.log(table(rows));
}

async function mix(): Promise<void> {
  const child = spawn(process.execPath, [...(process.env["BENCH_SERVER_PROF"] ? ["--cpu-prof", `--cpu-prof-dir=${process.env["BENCH_SERVER_PROF"]}`] : []), "--import", "tsx", here, "server"], {
    stdio: ["pipe", "pipe", "inherit"],
    env: { ...process.env, BENCH_SPEC_WORKERS: WORKERS, BENCH_STORE: STORE },
  });
  const waiting: ((line: string) => void)[] = [];
  createInterface({ input: child.stdout }).on("line", (line) => waiting.shift()?.(line));
  const nextLine = (): Promise<string> =>
    new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error("server child did not answer within 60 s")), 60_000);
      waiting.push((line) => {
        clearTimeout(t);
        resolve(line);
      });
    });
  const stats = async (): Promise<{ services: number; loopP99Ms: number; loopMaxMs: number }> => {
    const line = nextLine();
    child.stdin.write("stats\n");
    return JSON.parse(await line) as { services: number; loopP99Ms: number; loopMaxMs: number };
  };
  const rss = (): number => {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : Number.NaN;
  };
  const { address } = JSON.parse(await nextLine()) as { address: string };

  // Each client on its own connection, as separate client processes would be.
  const own = { "grpc.use_local_subchannel_pool": 1 };
  const clients = Array.from({ length: CLIENTS }, () => ({
    admin: createPromiseClient(MultiServiceAdmin, address, undefined, { channelOptions: own, defaultDeadlineMs: 120_000 }),
    raw: new grpc.Client(address, grpc.credentials.createInsecure(), own),
  }));

  const perClass = CLASSES.map(() => ({ latencies: [] as number[], codes: new Map<string, number>() }));
  const codeName = (err: unknown): string => {
    const code = (err as { code?: unknown }).code;
    return typeof code === "number" ? (grpc.status[code] ?? String(code)) : `client error: ${(err as Error).message}`;
  };
  async function send(client: (typeof clients)[number], k: number, i: number): Promise<void> {
    const input = CLASSES[k]!.make(i);
    const t = performance.now();
    let code = "OK";
    try {
      if (Buffer.isBuffer(input)) {
        await new Promise<void>((resolve, reject) => {
          const deadline = new Date(Date.now() + 120_000);
          client.raw.makeUnaryRequest(PUT_PATH, (b: Buffer) => b, (b: Buffer) => b, input, new grpc.Metadata(), { deadline }, (err) => (err ? reject(err) : resolve()));
        });
      } else {
        await client.admin.putService({ name: input.name, spec: input.spec, parameters: input.parameters ?? {} });
      }
    } catch (err) {
      code = codeName(err);
    }
    const out = perClass[k]!;
    out.latencies.push(performance.now() - t);
    out.codes.set(code, (out.codes.get(code) ?? 0) + 1);
  }

  // Warm-up: one request of each class (starts the spec workers, JITs the paths).
  for (const [k] of CLASSES.entries()) await send(clients[0]!, k, 1_000_000 + k);
  for (const c of perClass) {
    c.latencies.length = 0;
    c.codes.clear();
  }
  await stats();
  const rssBefore = rss();

  const checker = spawn(process.execPath, ["--import", "tsx", here, "health", address], { stdio: ["pipe", "pipe", "inherit"] });
  const checkerLines = createInterface({ input: checker.stdout })[Symbol.asyncIterator]();
  if ((await checkerLines.next()).value !== "ready") throw new Error("the health checker did not start");
  let mixing = true;

  let next = 0;
  const started = performance.now();
  const end = started + SECONDS * 1000;
  await Promise.all(
    clients.map(async (client) => {
      while (mixing) {
        const i = next++;
        if (i >= REQUESTS || performance.now() >= end) break;
        await send(client, SCHEDULE[i % SCHEDULE.length]!, i);
      }
    }),
  );
  mixing = false;
  const wall = (performance.now() - started) / 1000;
  checker.stdin.write("stop\n");
  const { latencies: checks, failures: checkFailures } = JSON.parse((await checkerLines.next()).value as string) as { latencies: number[]; failures: number };
  const loop = await stats();
  const rssAfter = rss();

  const all = summarize(perClass.flatMap((c) => c.latencies));
  const h = summarize(checks);
  const rows = [["input class", "sent", "p50", "p99", "max", "status codes"]];
  for (const [k, c] of CLASSES.entries()) {
    if (perClass[k]!.latencies.length === 0) continue;
    const s = summarize(perClass[k]!.latencies);
    const codes = [...perClass[k]!.codes].sort((a, b) => b[1] - a[1]).map(([code, n]) => `${code} ${n}`).join(", ");
    rows.push([c.label, String(s.n), ms(s.p50, 1), ms(s.p99, 1), ms(s.max, 1), codes]);
  }
  const internal = perClass.reduce((n, c) => n + (c.codes.get("INTERNAL") ?? 0) + (c.codes.get("UNKNOWN") ?? 0), 0);
  console.log(`server: startCorral --spec-workers ${WORKERS} --store ${STORE}, sim cluster of ${AGENTS} agents, in a child process; ${CLIENTS} clients on their own connections; Health/Check every ${HEALTH_EVERY_MS} ms from another process`);
  console.log(table(rows));
  console.log("");
  console.log(
    table([
      ["measure", "value"],
      ["requests", `${all.n} in ${wall.toFixed(1)} s = ${(all.n / wall).toFixed(0)} requests/s`],
      ["request latency", `p50 ${ms(all.p50, 1)}, p99 ${ms(all.p99, 1)}, max ${ms(all.max, 1)}`],
      ["INTERNAL or UNKNOWN replies", String(internal)],
      ["health checks", `${h.n} answered, ${checkFailures} failed`],
      ["health-check latency", `p50 ${ms(h.p50, 1)}, p99 ${ms(h.p99, 1)}, max ${ms(h.max, 1)}`],
      [`target: health p99 ≤ ${TARGET_HEALTH_P99_MS} ms`, verdict(h.p99 <= TARGET_HEALTH_P99_MS)],
      ["server event-loop delay", `p99 ${ms(loop.loopP99Ms, 1)}, max ${ms(loop.loopMaxMs, 1)}`],
      ["server RSS", `${mb(rssBefore)} before, ${mb(rssAfter)} after (${loop.services} services stored)`],
    ]),
  );
  for (const c of clients) {
    c.admin.close();
    c.raw.close();
  }
  child.stdin.write("stop\n");
  await new Promise((r) => child.once("exit", r));
}
