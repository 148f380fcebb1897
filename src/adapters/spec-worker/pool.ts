/**
 * Spec builds for PutService off the event loop (issue 10, deliverable 4). Rendering, YAML
 * parsing and validating a spec of up to the 1 MiB request limit takes from under a millisecond
 * to about a second of CPU (a pathological 250 KiB YAML text, a 1 MiB template); on the event
 * loop that stalls every other call, health checks included. `SpecWorkerPool` runs the same
 * deterministic build in worker threads; `pooledServiceFactory` puts it behind the engine's
 * `ServiceFactory.buildForRequest` port and keeps `build` (recovery, with its caches) inline.
 *
 * - Bounded: at most `size` builds run and `maxQueued` wait; one more is RESOURCE_EXHAUSTED at
 *   once rather than waiting for a slot (its request is already in memory; waiting would only
 *   hold it longer, and grpc-js would keep accepting more).
 * - Never a hang: a build running past `timeoutMs` or needing more than `maxHeapMb` fails that
 *   one request with RESOURCE_EXHAUSTED (the input caused it); a worker that crashes or a
 *   request that cannot be cloned fails it with an internal error, logged. The worker is
 *   replaced. Workers that cannot even start (3 in a row) turn the pool off and requests are
 *   built inline, as without a pool.
 * - Workers start on first use, are unref'd while idle (an unclosed pool never keeps the process
 *   alive) and are terminated by `close()`.
 * - The worker module is `worker.ts` under tsx (dev, tests) or `worker.js` in dist/: the same
 *   extension as this module; see `workerEntry` for how a TypeScript worker gets tsx.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { extname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { SchedulerError } from "../../domain/errors.js";
import type { Logger } from "../../engine/ports.js";
import type { ServiceContext } from "../../engine/service-context.js";
import type { ServiceFactory } from "../../engine/service-factory.js";
import { familyOf } from "../../engine/service-factory.js";
import type { BuiltService } from "../../engine/service-scheduler.js";
import type { BuildRequest, WorkerReply } from "./protocol.js";
import { fromWireError } from "./protocol.js";

export interface SpecWorkerPoolOptions {
  /** Worker threads. @default 1 */
  readonly size?: number;
  /** Builds that may wait beyond the `size` running ones; one more is RESOURCE_EXHAUSTED at once. @default 64 */
  readonly maxQueued?: number;
  /** A build running longer is abandoned (worker terminated and replaced, RESOURCE_EXHAUSTED). @default 30_000 */
  readonly timeoutMs?: number;
  /** Old-generation heap of each worker, MB: a build that needs more kills only its worker (RESOURCE_EXHAUSTED). @default 512 */
  readonly maxHeapMb?: number;
  /** Builds when the workers cannot start at all. */
  readonly fallback: ServiceFactory;
  readonly log: Logger;
  /** The worker module. @default ./worker.ts or ./worker.js beside this module */
  readonly workerUrl?: URL;
}

export interface SpecWorkerPoolStats {
  readonly workers: number;
  readonly busy: number;
  readonly queued: number;
  /** Builds handed to workers. */
  readonly jobs: number;
  /** Workers started, and of those how many died or were terminated for a build (not by close). */
  readonly started: number;
  readonly replaced: number;
  readonly rejected: number;
}

interface Job {
  readonly id: number;
  readonly context: ServiceContext;
  resolve(built: BuiltService): void;
  reject(err: Error): void;
  /** Told how long the worker took, whatever the outcome. */
  readonly timed?: ((ms: number) => void) | undefined;
}

interface Slot {
  readonly worker: Worker;
  ready: boolean;
  job?: Job | undefined;
  timer?: NodeJS.Timeout;
  /** Set once the slot is abandoned: its later events are ignored. */
  gone: boolean;
}

/** Consecutive workers that died before they were ready: then the pool builds inline. */
const MAX_START_FAILURES = 3;

/**
 * V8's stack limit on the main thread (`--stack-size`, KB; Node's default 984). Workers get the
 * same, so input that overflows the stack in one place overflows it in the other: a spec the
 * worker accepts must rebuild on the main thread at every restart. A worker thread's V8 limit
 * is its `stackSizeMb` minus Node's 192 KB guard.
 */
function mainThreadStackMb(): number {
  const flag = [...process.execArgv, ...(process.env["NODE_OPTIONS"] ?? "").split(/\s+/)]
    .map((a) => /^--stack[-_]size=(\d+)$/.exec(a))
    .find((m) => m !== null);
  const kb = flag ? Number(flag[1]) : 984;
  return (kb + 192) / 1024;
}

function defaultWorkerUrl(): URL {
  const ext = extname(fileURLToPath(import.meta.url)) || ".js";
  return new URL(`./worker${ext}`, import.meta.url);
}

/** The parent's execArgv, without profiler and inspector flags (one port, one profile). */
function workerExecArgv(): string[] {
  return process.execArgv.filter((a) => !/^--(cpu-prof|heap-prof|inspect)/.test(a));
}

/**
 * How to start a worker on `url`. JavaScript (dist/) starts as is. TypeScript needs tsx's
 * loader inside the worker: Node 20 does not carry the parent's module hooks (tsx CLI, vitest)
 * into worker threads, so a small CommonJS bootstrap registers tsx's ESM hooks
 * (`tsx/esm/api`, its `import` entry) and then imports the worker module.
 */
function workerEntry(url: URL): { readonly entry: URL | string; readonly eval: boolean; readonly workerData?: unknown } {
  if (!/\.[cm]?ts$/.test(url.pathname)) return { entry: url, eval: false };
  const require = createRequire(import.meta.url);
  const pkgPath = require.resolve("tsx/package.json");
  const pkg = JSON.parse(readFileSync(pkgPath, "utf8")) as { exports: Record<string, { import?: { default?: string } }> };
  const api = pkg.exports["./esm/api"]?.import?.default;
  if (api === undefined) throw new Error("tsx/package.json has no ./esm/api import entry");
  const bootstrap = [
    'const { workerData } = require("node:worker_threads");',
    "import(workerData.tsxApi).then((tsx) => { tsx.register(); return import(workerData.entry); });",
  ].join("\n");
  return { entry: bootstrap, eval: true, workerData: { tsxApi: new URL(api, pathToFileURL(pkgPath)).href, entry: url.href } };
}

export class SpecWorkerPool {
  private readonly size: number;
  private readonly maxQueued: number;
  private readonly timeoutMs: number;
  private readonly maxHeapMb: number;
  private readonly entry: ReturnType<typeof workerEntry>;
  private readonly execArgv: string[];
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private startFailures = 0;
  private closed = false;
  private broken = false;
  private started = 0;
  private jobs = 0;
  private replaced = 0;
  private rejected = 0;

  constructor(private readonly options: SpecWorkerPoolOptions) {
    this.size = Math.max(1, Math.floor(options.size ?? 1));
    this.maxQueued = Math.max(0, Math.floor(options.maxQueued ?? 64));
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.maxHeapMb = options.maxHeapMb ?? 512;
    this.entry = workerEntry(options.workerUrl ?? defaultWorkerUrl());
    this.execArgv = workerExecArgv();
  }

  get stats(): SpecWorkerPoolStats {
    return {
      workers: this.slots.length,
      busy: this.slots.filter((s) => s.job).length,
      queued: this.queue.length,
      jobs: this.jobs,
      started: this.started,
      replaced: this.replaced,
      rejected: this.rejected,
    };
  }

  /**
   * The context built by a worker: the BuiltService, or the error the inline build throws.
   * @throws SchedulerError resource_exhausted when `maxQueued` builds are waiting already, the
   *   build ran past `timeoutMs` or needed more than `maxHeapMb`; unavailable once the pool is
   *   closed; a plain Error (→ INTERNAL) when the worker crashed or the request cannot be cloned.
   */
  build(context: ServiceContext, timed?: (ms: number) => void): Promise<BuiltService> {
    if (this.closed) return Promise.reject(new SchedulerError("unavailable", "the scheduler is stopping"));
    if (this.broken) return this.inline(context);
    const running = this.slots.filter((s) => s.job).length;
    if (running + this.queue.length >= this.size + this.maxQueued) {
      this.rejected++;
      return Promise.reject(
        new SchedulerError("resource_exhausted", `${running + this.queue.length} spec builds are already under way or waiting; try again shortly`),
      );
    }
    return new Promise<BuiltService>((resolve, reject) => {
      this.queue.push({ id: this.nextId++, context, resolve, reject, timed });
      this.dispatch();
    });
  }

  /** Terminates the workers; waiting and running builds fail with UNAVAILABLE. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const stopping = new SchedulerError("unavailable", "the scheduler is stopping");
    for (const job of this.queue.splice(0)) job.reject(stopping);
    const slots = this.slots.splice(0);
    await Promise.all(
      slots.map(async (slot) => {
        slot.gone = true;
        clearTimeout(slot.timer);
        slot.job?.reject(stopping);
        await slot.worker.terminate();
      }),
    );
  }

  private inline(context: ServiceContext): Promise<BuiltService> {
    try {
      return Promise.resolve(this.options.fallback.build(context));
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  /** Hands waiting jobs to ready idle workers; starts workers up to `size` while jobs wait. */
  private dispatch(): void {
    if (this.broken) {
      for (const job of this.queue.splice(0)) this.inline(job.context).then(job.resolve, job.reject);
      return;
    }
    // A copy: `abandon` removes its slot from `this.slots`, which would skip the next one.
    for (const slot of [...this.slots]) {
      if (this.queue.length === 0) return;
      if (slot.gone || !slot.ready || slot.job) continue;
      const job = this.queue.shift()!;
      slot.job = job;
      this.jobs++;
      slot.worker.ref();
      const ms = this.timeoutMs;
      slot.timer = setTimeout(() => this.abandon(slot, new SchedulerError("resource_exhausted", `spec build ran longer than ${ms} ms`)), ms);
      slot.timer.unref();
      try {
        slot.worker.postMessage({ id: job.id, context: job.context } satisfies BuildRequest);
      } catch (err) {
        this.abandon(slot, err as Error);
      }
    }
    const starting = this.slots.filter((s) => !s.ready).length;
    if (this.queue.length > starting && this.slots.length < this.size) this.spawn();
  }

  private spawn(): void {
    const worker = new Worker(this.entry.entry, {
      eval: this.entry.eval,
      ...(this.entry.workerData !== undefined ? { workerData: this.entry.workerData } : {}),
      execArgv: this.execArgv,
      resourceLimits: { maxOldGenerationSizeMb: this.maxHeapMb, stackSizeMb: mainThreadStackMb() },
      stdout: false,
      stderr: false,
    });
    this.started++;
    const slot: Slot = { worker, ready: false, gone: false };
    this.slots.push(slot);
    worker.on("message", (reply: WorkerReply) => this.onReply(slot, reply));
    worker.on("error", (err) => this.onExit(slot, err));
    worker.on("exit", (code) => this.onExit(slot, new Error(`spec-build worker exited with code ${code}`)));
  }

  private onReply(slot: Slot, reply: WorkerReply): void {
    if (slot.gone) return;
    if (reply.kind === "ready") {
      slot.ready = true;
      this.startFailures = 0;
      slot.worker.unref();
      this.dispatch();
      return;
    }
    const job = slot.job;
    if (!job || job.id !== reply.id) return;
    clearTimeout(slot.timer);
    slot.job = undefined;
    slot.worker.unref();
    job.timed?.(reply.ms);
    if (reply.kind === "built") job.resolve(reply.built);
    else job.reject(fromWireError(reply.error));
    this.dispatch();
  }

  /** The worker died or errored (uncaught exception, out of memory, failed to load). */
  private onExit(slot: Slot, err: Error): void {
    if (slot.gone || this.closed) return;
    if (!slot.ready) {
      this.startFailures++;
      this.options.log.error({ err, failures: this.startFailures }, "spec-build worker failed to start");
      this.remove(slot);
      if (this.startFailures >= MAX_START_FAILURES) {
        this.broken = true;
        this.options.log.error({}, "spec-build workers cannot start; building specs on the event loop");
      }
      this.dispatch();
      return;
    }
    const oom = (err as NodeJS.ErrnoException).code === "ERR_WORKER_OUT_OF_MEMORY";
    this.abandon(slot, oom ? new SchedulerError("resource_exhausted", `spec build needed more than ${this.maxHeapMb} MB`, { cause: err }) : err);
  }

  /**
   * Fails the slot's job, terminates and replaces its worker. A SchedulerError (the input ran too
   * long or needed too much memory) is the job's error as it is; anything else becomes a plain
   * Error (INTERNAL, logged at the edge).
   */
  private abandon(slot: Slot, err: Error): void {
    if (slot.gone) return;
    const job = slot.job;
    const input = err instanceof SchedulerError;
    const service = job?.context.name.slice(0, 64);
    if (input) this.options.log.warn({ service, reason: err.message }, "spec build abandoned; replacing its worker");
    else this.options.log.error({ err, service }, "spec-build worker lost; replacing it");
    this.remove(slot);
    this.replaced++;
    void slot.worker.terminate();
    if (job) job.reject(input ? err : new Error(`spec build failed: ${err.message}`, { cause: err }));
    this.dispatch();
  }

  private remove(slot: Slot): void {
    slot.gone = true;
    clearTimeout(slot.timer);
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
  }
}

export interface PooledFactoryOptions {
  /**
   * A context of at most this many characters that provably renders to at most as many is built
   * inline: its worst case (a pathological YAML text of that size) costs about a millisecond.
   * @default 1024
   */
  readonly inlineMaxChars?: number;
  /**
   * A context whose family (template, parameters, name length: `familyOf`) was built before in at
   * most this many ms is built inline: the same work again, without the worker round trip and
   * its queue. That is every service of a fleet after the first. @default 2
   */
  readonly inlineMaxMs?: number;
}

/** Families remembered as cheap, and the largest context remembered (the key holds it). */
const CHEAP_FAMILIES = 256;
const CHEAP_FAMILY_MAX_CHARS = 16 * 1024;

/**
 * The context's characters (name, template, parameter keys and values), counted up to `max`
 * (then `Infinity`), and an upper bound of its rendered length: mustache renders every tag at
 * most once (parameters are strings, so no section repeats) and a tag inserts at most the
 * longest value; a spec that sets other delimiters (`{{=| |=}}`, then `|A|`) has tags this
 * does not count, so its rendered length is `Infinity`. Reads at most about `max` characters of
 * text; a map of many parameters is still walked once (`Object.keys`).
 */
export function contextSize(context: ServiceContext, max: number): { readonly chars: number; readonly rendered: number } {
  const over = { chars: Infinity, rendered: Infinity };
  const { name, spec, parameters } = context;
  let chars = name.length + spec.length;
  if (chars > max) return over;
  const keys = Object.keys(parameters);
  if (keys.length > max) return over;
  let longest = name.length;
  for (const key of keys) {
    const value = parameters[key]!;
    chars += key.length + value.length;
    if (chars > max) return over;
    longest = Math.max(longest, value.length);
  }
  if (spec.includes("{{=")) return { chars, rendered: Infinity };
  let rendered = spec.length;
  for (let at = spec.indexOf("{{"); at >= 0 && rendered <= max; at = spec.indexOf("{{", at + 2)) rendered += longest;
  return { chars, rendered };
}

/**
 * The ServiceFactory of a server: `build` (recovery) on the calling thread with `inline`'s
 * caches; `buildForRequest` in the pool, except contexts known to be cheap (see the options).
 */
export function pooledServiceFactory(pool: SpecWorkerPool, inline: ServiceFactory, options: PooledFactoryOptions = {}): ServiceFactory {
  const inlineMaxChars = options.inlineMaxChars ?? 1024;
  const inlineMaxMs = options.inlineMaxMs ?? 2;
  const cheap = new Set<string>();
  const remember = (family: string, ms: number): void => {
    cheap.delete(family);
    if (ms > inlineMaxMs) return;
    cheap.add(family);
    if (cheap.size > CHEAP_FAMILIES) cheap.delete(cheap.values().next().value!);
  };
  return {
    build: (context) => inline.build(context),
    buildForRequest(context) {
      const size = contextSize(context, Math.max(inlineMaxChars, CHEAP_FAMILY_MAX_CHARS));
      const family = size.chars <= CHEAP_FAMILY_MAX_CHARS ? familyOf(context) : undefined;
      const small = size.chars <= inlineMaxChars && size.rendered <= inlineMaxChars;
      if (small || (family !== undefined && cheap.has(family))) {
        const started = performance.now();
        try {
          return Promise.resolve(inline.build(context));
        } catch (err) {
          return Promise.reject(err as Error);
        } finally {
          if (family !== undefined) remember(family, performance.now() - started);
        }
      }
      return pool.build(context, family === undefined ? undefined : (ms) => remember(family, ms));
    },
  };
}
