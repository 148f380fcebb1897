/**
 * The fuzz run: N cases from fast-check against one FuzzServer, every reply checked against
 * the properties below; then each distinct failure class is replayed from its run index
 * (fast-check `path`) and shrunk to a small counterexample.
 *
 * Properties of every reply (issue 10):
 *  (a) the status is a defined gRPC code (streams: the status at the end; a deadline bounds them);
 *  (b) never UNKNOWN, never INTERNAL from our code — grpc-js's own "Error deserializing request"
 *      INTERNAL is counted apart, not failed;
 *  (c) the encoded trailers (grpc-status, grpc-message percent-encoded as sent, every other
 *      trailer key + value) stay under 4096 bytes;
 *  (d) a rejected call, a read-only call, a dry-run PutService, and a call whose body a strict
 *      protobuf runtime refuses leave the store (every node: data and version) and the API view (ListServices,
 *      every plan of every service, GetScheduler, the secret store's files) as they were;
 *  (e) the server stays alive: health answers SERVING after every case;
 *  (f) a body a strict runtime refuses (malformed, or a known field with the wrong wire type)
 *      is refused: an error status, no response message;
 *  (g) strict values: each STRICT_RULES change to a valid spec is refused with
 *      INVALID_ARGUMENT naming the field, or (the dcos-commons forms) still accepted;
 *  (h) an unmodified example or fixture under a fresh name is CREATED;
 *  (i) every OK response parses as the RPC's response message;
 *  (j) a dry-run PutService answered OK says dry_run.
 */
import fc from "fast-check";
import * as grpc from "@grpc/grpc-js";
import { fromBinary } from "@bufbuild/protobuf";
import { MultiServiceAdmin, PutOutcome, PutServiceRequestSchema, PutServiceResponseSchema } from "../../gen/corral/v1/admin_pb.js";
import {
  SPEC_BASES,
  STRICT_BASE,
  STRICT_RULES,
  caseArb,
  checkCoverage,
  describeCase,
  requestBytes,
  specText,
} from "./generators.js";
import type { Context, FuzzCase } from "./generators.js";
import { FuzzServer } from "./server.js";
import type { CallOutcome, StoreSnapshot } from "./server.js";
import { TRAILER_LIMIT_BYTES } from "./trailers.js";
import { encodeRecords, strictVerdict, toRecords } from "./wire.js";
import type { Verdict } from "./wire.js";

/** RPCs that may change state when they succeed; every other RPC must never change anything. */
export const MUTATING_RPCS: ReadonlySet<string> = new Set(["PutService", "UninstallService", "ControlPlan", "ControlPod", "PutSecret", "DeleteSecret"]);

export interface Violation {
  readonly property: string;
  readonly rpc: string;
  readonly code: string;
  readonly message: string;
}

export interface FailureClass {
  readonly key: string;
  readonly property: string;
  readonly rpc: string;
  readonly code: string;
  readonly message: string;
  count: number;
  /** Run index of the first case that showed it (fast-check path). */
  readonly firstIndex: number;
  readonly firstCase: string;
  shrunk?: { readonly caseText: string; readonly message: string; readonly path: string; readonly shrinks: number };
}

export interface FuzzReport {
  readonly seed: number;
  readonly runs: number;
  readonly durationMs: number;
  readonly shrinkMs: number;
  /** Replies per status code name, plus the grpc-js deserialization INTERNALs and open streams apart. */
  readonly statusCounts: Record<string, number>;
  readonly perRpc: Record<string, Record<string, number>>;
  readonly classes: readonly FailureClass[];
  readonly maxTrailerBytes: number;
  readonly health: { readonly p50: number; readonly p99: number; readonly max: number };
  /** Health checks on a second connection while each call ran (event-loop stalls; reported, not asserted). */
  readonly healthDuring: { readonly p50: number; readonly p99: number; readonly max: number };
  readonly rssBytes: number;
  readonly services: number;
}

export interface FuzzOptions {
  readonly runs: number;
  readonly seed?: number;
  /** Time for replaying and shrinking all failure classes together. @default 20000 */
  readonly shrinkBudgetMs?: number;
  /** At most this many classes are shrunk (the others keep their first case). @default 12 */
  readonly maxShrunk?: number;
  readonly progress?: (done: number, total: number) => void;
}

const UNARY_DEADLINE_MS = 20_000;
const STREAM_DEADLINE_MS = 300;
const BIG_STREAM_DEADLINE_MS = 1500;

const codeName = (code: number): string => grpc.status[code] ?? `code ${code}`;

/** The message of a class: long runs collapsed, numbers and ids generalised. */
export function normalize(text: string): string {
  return text
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, "<uuid>")
    .replace(/(.{1,6}?)\1{3,}/gs, "$1…")
    .replace(/\d+/g, "N")
    .slice(0, 120);
}

interface CaseResult {
  readonly violations: Violation[];
  readonly label: string;
  readonly outcome?: CallOutcome;
  readonly healthMs: number;
}

/** One server, one run of cases; `runCase` is what both phases call. */
class Runner {
  private freshCounter = 0;
  /** Health-check latencies on the side connection, taken while each call ran. */
  readonly duringMs: number[] = [];
  constructor(readonly server: FuzzServer) {}

  private context(): Context {
    const existing = this.server.serviceNames();
    const taken = new Set(existing);
    return {
      existing,
      lastEvent: this.server.harness.scheduler.getScheduler().lastUninstallEvent,
      fresh: () => {
        let name: string;
        do name = `fz${++this.freshCounter}-x`;
        while (taken.has(name));
        return name;
      },
    };
  }

  async runCase(c: FuzzCase): Promise<CaseResult> {
    try {
      return await this.runCaseUnsafe(c);
    } catch (err) {
      return { violations: [{ property: "x-harness", rpc: c.rpc, code: "-", message: String((err as Error)?.stack ?? err).slice(0, 400) }], label: "harness error", healthMs: 0 };
    }
  }

  private async runCaseUnsafe(c: FuzzCase): Promise<CaseResult> {
    const server = this.server;
    await server.settle();
    const ctx = this.context();
    const violations: Violation[] = [];
    if (c.kind === "advance") {
      await server.advance(c.ms);
      const h = await this.health(violations, c.rpc);
      return { violations, label: "advance", healthMs: h };
    }

    let body: Buffer;
    let verdict: Verdict = { ok: true };
    const method = MultiServiceAdmin.methods.find((m) => m.name === c.rpc)!;
    switch (c.kind) {
      case "call":
        body = requestBytes(method.input, c, ctx);
        verdict = strictVerdict(method.input, body);
        break;
      case "valid-put": {
        const base = SPEC_BASES[c.base % SPEC_BASES.length]!;
        const dry = c.dryRun ? { dryRun: 1n } : {};
        body = encodeRecords(toRecords(PutServiceRequestSchema, { name: ctx.fresh(), spec: base.text, parameters: base.params, ...dry }));
        break;
      }
      case "valid-uninstall": {
        const name = ctx.existing.length === 0 ? "nothing-exists" : ctx.existing[c.i % ctx.existing.length]!;
        body = encodeRecords(toRecords(method.input, { name }));
        break;
      }
      case "strict": {
        const rule = STRICT_RULES[c.rule]!;
        const { text } = specText({ base: STRICT_BASE, muts: [rule.mutation] }, ctx);
        body = encodeRecords(toRecords(PutServiceRequestSchema, { name: ctx.fresh(), spec: text }));
        break;
      }
    }

    const before = await this.snapshot();
    const big = body.length > 100_000;
    const deadline = method.methodKind === "server_streaming" ? (big ? BIG_STREAM_DEADLINE_MS : STREAM_DEADLINE_MS) : UNARY_DEADLINE_MS;
    // A health check on a second connection while the call runs: how long the loop was busy.
    const [out, during] = await Promise.all([server.call(c.rpc, body, deadline), server.healthy(10_000, "side")]);
    await server.settle();
    const code = codeName(out.code);
    const v = (property: string, message: string): void => void violations.push({ property, rpc: c.rpc, code, message });

    // (a) a defined status code.
    if (!Number.isInteger(out.code) || out.code < 0 || out.code > 16) v("a-undefined-status", `status ${out.code}: ${out.details}`);
    if (method.methodKind === "unary" && out.code === grpc.status.DEADLINE_EXCEEDED) v("a-no-status", `no reply within ${deadline} ms: ${out.details}`);
    // (b) no UNKNOWN, no INTERNAL of ours.
    const grpcJsDeserialize = out.code === grpc.status.INTERNAL && out.details.startsWith("Error deserializing request");
    if (out.code === grpc.status.UNKNOWN) v("b-unknown", out.details);
    if (out.code === grpc.status.INTERNAL && !grpcJsDeserialize) v("b-internal", this.internalCause(out.details));
    // (c) bounded trailers.
    if (out.trailerBytes >= TRAILER_LIMIT_BYTES) {
      const violationsTrailer = out.metadata.get("corral-violations")[0];
      const vLen = typeof violationsTrailer === "string" ? violationsTrailer.length : 0;
      v("c-trailers", `${out.trailerBytes} bytes (grpc-message ${out.details.length} chars, corral-violations ${vLen}): ${out.details.slice(0, 160)}`);
    }
    // (d) nothing stored or changed: by a rejected call, a read, or a dry run.
    const dryRun = verdict.ok && c.rpc === "PutService" && isDryRun(body);
    const mustNotChange = out.code !== grpc.status.OK || !MUTATING_RPCS.has(c.rpc) || !verdict.ok || dryRun;
    if (mustNotChange) {
      const after = await this.snapshot();
      const diff = diffSnapshots(before, after);
      if (diff !== undefined) v("d-changed-state", `${out.code === grpc.status.OK ? "OK reply" : "rejected call"} changed ${diff}`);
    }
    // (j) a dry run says it was one.
    if (dryRun && out.code === grpc.status.OK && out.messages[0] && !fromBinary(PutServiceResponseSchema, out.messages[0]).dryRun) {
      v("j-dry-run-unmarked", "a dry-run PutService answered OK without dry_run");
    }
    // (f) a body strict runtimes refuse is refused.
    if (!verdict.ok && (out.code === grpc.status.OK || out.messages.length > 0 || out.openAtDeadline)) {
      v("f-accepted-malformed", `${verdict.kind} body accepted (${out.openAtDeadline ? "stream open" : code}): ${verdict.reason}`);
    }
    // (g) strict values.
    if (c.kind === "strict") {
      const rule = STRICT_RULES[c.rule]!;
      const said = `${out.details} ${String(out.metadata.get("corral-violations")[0] ?? "")}`;
      const m = rule.mutation;
      const what = m.m === "scalar" ? `${m.key}: ${m.val}` : describeCase(c);
      if (rule.expect === "reject" && out.code !== grpc.status.INVALID_ARGUMENT) v("g-strict-accepted", `${what} → ${code}`);
      else if (rule.expect === "reject" && rule.names !== undefined && !said.toLowerCase().includes(rule.names.toLowerCase())) v("g-strict-unnamed", `${what} → INVALID_ARGUMENT not naming ${rule.names ?? ""}: ${out.details.slice(0, 160)}`);
      if (rule.expect === "accept" && out.code !== grpc.status.OK) v("g-strict-refused", `${what} → ${code}: ${out.details.slice(0, 200)}`);
    }
    // (h) valid puts succeed.
    if (c.kind === "valid-put") {
      const res = out.code === grpc.status.OK && out.messages[0] ? fromBinary(PutServiceResponseSchema, out.messages[0]) : undefined;
      if (res?.outcome !== PutOutcome.CREATED) v("h-valid-put", `${SPEC_BASES[c.base % SPEC_BASES.length]!.file} → ${code}: ${out.details.slice(0, 200)}`);
    }
    // (i) OK responses parse.
    if (out.code === grpc.status.OK || out.messages.length > 0) {
      for (const m of out.messages) {
        try {
          fromBinary(method.output, m);
        } catch (err) {
          v("i-bad-response", String(err));
        }
      }
    }
    // (e) alive.
    const healthMs = await this.health(violations, c.rpc);
    this.duringMs.push(during.ms);
    const label = grpcJsDeserialize ? "INTERNAL (grpc-js deserialize)" : out.openAtDeadline ? "stream open at deadline" : code;
    return { violations, label, outcome: out, healthMs };
  }

  /** Health after the case on the fuzz connection; when that fails, on a new one too (server dead, or connection wedged?). */
  private async health(violations: Violation[], rpc: string): Promise<number> {
    const h = await this.server.healthy();
    if (!h.ok) {
      const fresh = await this.server.healthy(5000, "fresh");
      const where = fresh.ok ? "the fuzz connection is wedged, a new connection is answered" : `a new connection fails too: ${fresh.detail}`;
      violations.push({ property: "e-health", rpc, code: "-", message: `health check failed (${h.detail.replace(/,.*/, "")}); ${where}` });
    }
    return h.ms;
  }

  /** The logged error behind an INTERNAL reply, found by its request id. */
  private internalCause(details: string): string {
    const id = /request id ([^)\s]+)/.exec(details)?.[1];
    const logged = this.server.internals.find((l) => id !== undefined && l.requestId === id);
    return logged ? `${details.replace(/ \(request id [^)]*\)/, "")} ← ${logged.error}` : details;
  }

  private async snapshot(): Promise<{ store: StoreSnapshot; view: string }> {
    return { store: await this.server.snapshotStore(), view: this.server.snapshotView() };
  }
}

function diffSnapshots(a: { store: StoreSnapshot; view: string }, b: { store: StoreSnapshot; view: string }): string | undefined {
  const changed: string[] = [];
  for (const [path, node] of b.store) {
    const old = a.store.get(path);
    if (old === undefined) changed.push(`+${path}`);
    else if (old.version !== node.version || !old.data.equals(node.data)) changed.push(`~${path}`);
  }
  for (const path of a.store.keys()) if (!b.store.has(path)) changed.push(`-${path}`);
  if (changed.length > 0) return `the store: ${changed.slice(0, 5).join(", ")}${changed.length > 5 ? ` and ${changed.length - 5} more` : ""}`;
  if (a.view !== b.view) return "the API view (ListServices/GetPlan/GetScheduler/secret files)";
  return undefined;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))]!;
}

const classKey = (v: Violation): string => `${v.property}|${v.rpc}|${v.code}|${normalize(v.message)}`;
const looseKey = (v: { property: string; rpc: string; code: string }): string => `${v.property}|${v.rpc}|${v.code}`;

export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  checkCoverage();
  const seed = options.seed ?? (Date.now() ^ (Math.random() * 0x7fffffff)) >>> 0;
  const server = await FuzzServer.start({ seed: seed % 1000 });
  const runner = new Runner(server);
  const statusCounts: Record<string, number> = {};
  const perRpc: Record<string, Record<string, number>> = {};
  const classes = new Map<string, FailureClass>();
  const healthMs: number[] = [];
  let maxTrailerBytes = 0;
  let index = 0;
  const started = performance.now();
  try {
    await fc.check(
      fc.asyncProperty(caseArb(), async (c) => {
        const i = index++;
        const r = await runner.runCase(c);
        statusCounts[r.label] = (statusCounts[r.label] ?? 0) + 1;
        const rpc = (perRpc[c.kind === "call" ? c.rpc : `${c.rpc} (${c.kind})`] ??= {});
        rpc[r.label] = (rpc[r.label] ?? 0) + 1;
        healthMs.push(r.healthMs);
        if (r.outcome && r.outcome.code !== grpc.status.OK) maxTrailerBytes = Math.max(maxTrailerBytes, r.outcome.trailerBytes);
        for (const v of r.violations) {
          const key = classKey(v);
          const known = classes.get(key);
          if (known) known.count++;
          else classes.set(key, { key, ...v, count: 1, firstIndex: i, firstCase: describeCase(c) });
        }
        options.progress?.(i + 1, options.runs);
        return true;
      }),
      { seed, numRuns: options.runs },
    );
    const durationMs = performance.now() - started;

    // Phase 2: one shrink per loose class (property, RPC, code), within the budget.
    const shrinkStarted = performance.now();
    const budget = options.shrinkBudgetMs ?? 20_000;
    const shrunkLoose = new Set<string>();
    let shrunkCount = 0;
    for (const cls of classes.values()) {
      const loose = looseKey(cls);
      if (shrunkLoose.has(loose)) continue;
      const left = budget - (performance.now() - shrinkStarted);
      if (left <= 500 || shrunkCount >= (options.maxShrunk ?? 12)) break;
      shrunkLoose.add(loose);
      shrunkCount++;
      let last: { caseText: string; message: string } | undefined;
      const result = await fc.check(
        fc.asyncProperty(caseArb(), async (c) => {
          const r = await runner.runCase(c);
          const hit = r.violations.find((v) => looseKey(v) === loose);
          if (hit) last = { caseText: describeCase(c), message: hit.message };
          return hit === undefined;
        }),
        { seed, path: String(cls.firstIndex), interruptAfterTimeLimit: Math.min(left, budget / 3) },
      );
      if (result.failed && last) {
        for (const other of classes.values()) {
          if (looseKey(other) === loose) other.shrunk = { ...last, path: result.counterexamplePath ?? String(cls.firstIndex), shrinks: result.numShrinks };
        }
      }
    }
    const shrinkMs = performance.now() - shrinkStarted;
    const sortedHealth = [...healthMs].sort((a, b) => a - b);
    const sortedDuring = [...runner.duringMs].sort((a, b) => a - b);
    return {
      seed,
      runs: options.runs,
      durationMs,
      shrinkMs,
      statusCounts,
      perRpc,
      classes: [...classes.values()],
      maxTrailerBytes,
      health: { p50: percentile(sortedHealth, 0.5), p99: percentile(sortedHealth, 0.99), max: sortedHealth[sortedHealth.length - 1] ?? 0 },
      healthDuring: { p50: percentile(sortedDuring, 0.5), p99: percentile(sortedDuring, 0.99), max: sortedDuring[sortedDuring.length - 1] ?? 0 },
      rssBytes: process.memoryUsage().rss,
      services: server.serviceNames().length,
    };
  } finally {
    await server.stop();
  }
}

const mib = (n: number): string => `${(n / 1024 / 1024).toFixed(1)} MiB`;

/** One printable line: control characters escaped, long runs collapsed, cut at `max`. */
function printable(text: string, max: number): string {
  const line = text
    .replace(/(.{1,6}?)\1{7,}/gsu, (_m, unit: string) => `${unit}…`)
    .replace(/[\x00-\x1f\x7f\u0085\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
  return line.length > max ? `${line.slice(0, max)}…` : line;
}

/** The report printed by `npm run fuzz` and by the vitest entry on failure. */
export function formatReport(r: FuzzReport): string {
  const lines: string[] = [];
  lines.push(`corral fuzz: ${r.runs} cases, seed ${r.seed}, ${(r.durationMs / 1000).toFixed(1)} s (+ ${(r.shrinkMs / 1000).toFixed(1)} s replay/shrink)`);
  lines.push(`status counts: ${Object.entries(r.statusCounts).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(", ")}`);
  for (const [rpc, counts] of Object.entries(r.perRpc).sort()) {
    lines.push(`  ${rpc}: ${Object.entries(counts).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(", ")}`);
  }
  lines.push(`largest error trailers: ${r.maxTrailerBytes} bytes (limit ${TRAILER_LIMIT_BYTES})`);
  lines.push(`health check after each case: p50 ${r.health.p50.toFixed(1)} ms, p99 ${r.health.p99.toFixed(1)} ms, max ${r.health.max.toFixed(1)} ms`);
  lines.push(`health check during each call (second connection): p50 ${r.healthDuring.p50.toFixed(1)} ms, p99 ${r.healthDuring.p99.toFixed(1)} ms, max ${r.healthDuring.max.toFixed(1)} ms`);
  lines.push(`services at the end: ${r.services}; RSS after the run: ${mib(r.rssBytes)}`);
  if (r.classes.length === 0) {
    lines.push("no property violated");
    return lines.join("\n");
  }
  const total = r.classes.reduce((n, c) => n + c.count, 0);
  lines.push(`${total} violations in ${r.classes.length} classes (seed ${r.seed}; a path is fast-check's replay path of that run):`);
  const byLoose = new Map<string, FailureClass[]>();
  for (const c of r.classes) {
    const k = looseKey(c);
    byLoose.set(k, [...(byLoose.get(k) ?? []), c]);
  }
  for (const [loose, group] of byLoose) {
    const n = group.reduce((s, c) => s + c.count, 0);
    lines.push(`\n✗ ${loose.replaceAll("|", " ")} — ${n} cases`);
    for (const c of group.slice(0, 6)) lines.push(`    ${c.count}× ${printable(c.message, 300)}`);
    if (group.length > 6) lines.push(`    … and ${group.length - 6} more messages`);
    const first = group[0]!;
    lines.push(`    first case (run ${first.firstIndex}): ${printable(first.firstCase, 600)}`);
    if (first.shrunk) lines.push(`    shrunk (path ${first.shrunk.path}, ${first.shrunk.shrinks} shrinks): ${printable(first.shrunk.caseText, 600)}\n      → ${printable(first.shrunk.message, 300)}`);
  }
  return lines.join("\n");
}

/** The body asks for a dry run (a body protobuf-es cannot read asks for nothing). */
function isDryRun(body: Buffer): boolean {
  try {
    return fromBinary(PutServiceRequestSchema, body).dryRun;
  } catch {
    return false;
  }
}
