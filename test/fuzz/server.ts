/**
 * The system under fuzz: the real scheduler (simulated cluster, memory store, fake clock — so
 * nothing changes between two calls unless the fuzz advances time) behind the real AdminServer
 * on 127.0.0.1:0, and a grpc-js client with pass-through (identity) serializers so any bytes can
 * be sent as a request body.
 *
 * The store is wrapped to be snapshotted: every path any write touched is remembered, and a
 * snapshot reads every node under those roots (data and version). The secret RPCs write a file
 * store in a temp dir (the local agent's kind), which the API view snapshot reads too.
 */
import { createHash } from "node:crypto";
import { readFileSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import * as grpc from "@grpc/grpc-js";
import { pino } from "pino";
import { MultiServiceAdmin } from "../../gen/corral/v1/admin_pb.js";
import { AdminServer } from "../../src/adapters/grpc/server.js";
import { MemoryPersister } from "../../src/adapters/persister/memory-persister.js";
import { SecretFiles } from "../../src/adapters/secrets/secret-files.js";
import type { Persister, PersisterOp, Versioned } from "../../src/engine/ports.js";
import { createHarness } from "../harness/harness.js";
import type { Harness } from "../harness/harness.js";
import { makeTempDir } from "../temp-dir.js";
import { encodedTrailerBytes } from "./trailers.js";

/** What one call answered, as the client saw it. */
export interface CallOutcome {
  readonly code: grpc.status;
  readonly details: string;
  /** Trailing metadata (for a trailers-only reply: everything the client kept). */
  readonly metadata: grpc.Metadata;
  /** Response messages received (0 or 1 for unary calls). */
  readonly messages: readonly Buffer[];
  /** grpc-status + grpc-message (as sent: percent-encoded) + every other trailer, key + value bytes. */
  readonly trailerBytes: number;
  /** A stream that was still open when its deadline struck (status DEADLINE_EXCEEDED, client-side). */
  readonly openAtDeadline: boolean;
  readonly ms: number;
}

/** A logged server-side INTERNAL: the request id and the error behind it. */
export interface InternalLog {
  readonly requestId: string | undefined;
  readonly error: string;
}

/** Every node of the store: path → version and bytes. */
export type StoreSnapshot = ReadonlyMap<string, { readonly version: number; readonly data: Buffer }>;

/** A Persister that remembers the top-level roots every write touched, and counts writes. */
class SnapshotPersister implements Persister {
  readonly roots = new Set<string>();
  writes = 0;
  constructor(private readonly inner: MemoryPersister) {}
  get(path: string): Promise<Versioned | undefined> {
    return this.inner.get(path);
  }
  getMany(paths: readonly string[]): Promise<(Versioned | undefined)[]> {
    return this.inner.getMany(paths);
  }
  children(path: string): Promise<string[]> {
    return this.inner.children(path);
  }
  async multi(ops: readonly PersisterOp[]): Promise<void> {
    await this.inner.multi(ops);
    for (const op of ops) {
      if (op.kind === "check") continue;
      this.writes++;
      this.roots.add(op.path.split("/")[0]!);
    }
  }
  close(): Promise<void> {
    return this.inner.close();
  }

  async snapshot(): Promise<StoreSnapshot> {
    const out = new Map<string, { version: number; data: Buffer }>();
    let level = [...this.roots].sort();
    while (level.length > 0) {
      const values = await this.inner.getMany(level);
      const next: string[] = [];
      for (let i = 0; i < level.length; i++) {
        const v = values[i];
        if (v === undefined) continue;
        out.set(level[i]!, { version: v.version, data: Buffer.from(v.data) });
      }
      const kids = await Promise.all(level.map((p) => this.inner.children(p)));
      kids.forEach((names, i) => {
        for (const n of names) next.push(`${level[i]}/${n}`);
      });
      level = next;
    }
    return out;
  }
}

const passThrough = (b: Buffer): Buffer => b;

export interface FuzzServerOptions {
  /** Seed of the scheduler's random (UUIDs) and the simulated cluster. */
  readonly seed?: number;
  readonly agents?: number;
}

export class FuzzServer {
  readonly internals: InternalLog[] = [];
  private constructor(
    readonly harness: Harness,
    private readonly store: SnapshotPersister,
    readonly server: AdminServer,
    readonly address: string,
    /** The secret store's directory (its parent is removed by `stop`). */
    private readonly secretsDir: string,
    private readonly client: grpc.Client,
    /** A second connection, for health checks while a call runs on the first. */
    private readonly side: grpc.Client,
  ) {}

  static async start(options: FuzzServerOptions = {}): Promise<FuzzServer> {
    const store = new SnapshotPersister(new MemoryPersister());
    const harness = await createHarness({ persister: store, seed: options.seed ?? 1, agents: options.agents ?? 3 });
    const internals: InternalLog[] = [];
    // Server-side errors only: the log line of an INTERNAL carries the error we never send.
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString().split("\n")) {
          if (line === "") continue;
          try {
            const entry = JSON.parse(line) as { requestId?: string; err?: { type?: string; message?: string; stack?: string }; msg?: string };
            const e = entry.err;
            const where = e?.stack?.split("\n").find((l) => l.includes("/src/"))?.trim() ?? "";
            internals.push({ requestId: entry.requestId, error: `${e?.type ?? "Error"}: ${e?.message ?? entry.msg ?? ""} ${where}`.trim() });
          } catch {
            internals.push({ requestId: undefined, error: line.slice(0, 500) });
          }
        }
        done();
      },
    });
    const secretsDir = join(makeTempDir("fuzz-secrets"), "secrets");
    const secrets = { store: new SecretFiles(secretsDir) };
    const server = new AdminServer({ api: harness.scheduler, logger: pino({ level: "error" }, sink), secrets });
    const { port } = await server.listen("127.0.0.1:0");
    const address = `127.0.0.1:${port}`;
    const client = new grpc.Client(address, grpc.credentials.createInsecure(), {
      // The client takes whatever the server sends: the limits under test are the server's.
      "grpc.max_receive_message_length": -1,
      "grpc.max_send_message_length": -1,
    });
    const side = new grpc.Client(address, grpc.credentials.createInsecure(), { "grpc.use_local_subchannel_pool": 1 });
    const fuzz = new FuzzServer(harness, store, server, address, secretsDir, client, side);
    (fuzz as { internals: InternalLog[] }).internals = internals;
    return fuzz;
  }

  /** Store writes so far (ops other than `check`). */
  get writes(): number {
    return this.store.writes;
  }

  snapshotStore(): Promise<StoreSnapshot> {
    return this.store.snapshot();
  }

  /** The API's view: every service and every plan of each, as JSON. */
  snapshotView(): string {
    const s = this.harness.scheduler;
    const services = s.listServices();
    const plans = services.map((v) => v.plans.map((p) => {
      try {
        return s.getPlan(v.name, p.name);
      } catch (err) {
        return String(err);
      }
    }));
    return JSON.stringify({ services, plans, scheduler: s.getScheduler(), secrets: this.secretFiles() }, (_k, v: unknown) => (typeof v === "bigint" ? `${v}n` : v));
  }

  /** Every file of the secret store, with a digest of its bytes. */
  private secretFiles(): string[] {
    let files: string[];
    try {
      files = readdirSync(this.secretsDir).sort();
    } catch {
      return [];
    }
    return files.map((f) => `${f} ${createHash("sha256").update(readFileSync(join(this.secretsDir, f))).digest("hex")}`);
  }

  /** Service names known now (for generators that want existing names). */
  serviceNames(): string[] {
    return this.harness.scheduler.listServices().map((s) => s.name);
  }

  /** Runs whatever is due now (work queued by the last call), without moving time. */
  settle(): Promise<void> {
    return this.harness.settle();
  }

  /** Moves the fake clock: deploys progress, removals complete. */
  advance(ms: number): Promise<void> {
    return this.harness.advance(ms);
  }

  /** Calls `/corral.v1.MultiServiceAdmin/<method>` with `body` as the request bytes. */
  call(method: string, body: Buffer, deadlineMs: number): Promise<CallOutcome> {
    const desc = MultiServiceAdmin.methods.find((m) => m.name === method);
    if (desc === undefined) throw new Error(`no method ${method} in ${MultiServiceAdmin.typeName}`);
    const path = `/${MultiServiceAdmin.typeName}/${method}`;
    return desc.methodKind === "server_streaming"
      ? this.stream(path, body, deadlineMs)
      : this.unary(path, body, deadlineMs);
  }

  unary(path: string, body: Buffer, deadlineMs: number, client = this.client): Promise<CallOutcome> {
    const started = performance.now();
    return new Promise((resolve) => {
      const messages: Buffer[] = [];
      const call = client.makeUnaryRequest(
        path,
        passThrough,
        passThrough,
        body,
        new grpc.Metadata(),
        { deadline: Date.now() + deadlineMs },
        (err, value) => {
          if (value !== undefined) messages.push(value);
          void err;
        },
      );
      call.on("status", (status: grpc.StatusObject) => {
        resolve(outcome(status, messages, false, performance.now() - started));
      });
    });
  }

  stream(path: string, body: Buffer, deadlineMs: number): Promise<CallOutcome> {
    const started = performance.now();
    return new Promise((resolve) => {
      const messages: Buffer[] = [];
      const call = this.client.makeServerStreamRequest(path, passThrough, passThrough, body, new grpc.Metadata(), {
        deadline: Date.now() + deadlineMs,
      });
      call.on("data", (m: Buffer) => messages.push(m));
      call.on("error", () => undefined);
      call.on("status", (status: grpc.StatusObject) => {
        // "Deadline exceeded after 0.300s,…" (grpc-js, either side): the stream was still open.
        const open = status.code === grpc.status.DEADLINE_EXCEEDED && status.details.startsWith("Deadline exceeded");
        resolve(outcome(status, messages, open, performance.now() - started));
      });
    });
  }

  /**
   * grpc.health.v1.Health/Check for the whole server: true when it answers SERVING in time.
   * `on`: the fuzz connection, the side connection, or a connection made for this check.
   */
  async healthy(deadlineMs = 5000, on: "fuzz" | "side" | "fresh" = "fuzz"): Promise<{ ok: boolean; ms: number; detail: string }> {
    const started = performance.now();
    const client =
      on === "fuzz" ? this.client : on === "side" ? this.side : new grpc.Client(this.address, grpc.credentials.createInsecure(), { "grpc.use_local_subchannel_pool": 1 });
    const res = await this.unary("/grpc.health.v1.Health/Check", Buffer.alloc(0), deadlineMs, client);
    if (on === "fresh") client.close();
    const ms = performance.now() - started;
    // HealthCheckResponse{status: SERVING(1)} is 08 01.
    const ok = res.code === grpc.status.OK && res.messages[0]?.equals(Buffer.from([0x08, 0x01])) === true;
    return { ok, ms, detail: `${grpc.status[res.code]} ${res.details}` };
  }

  async stop(): Promise<void> {
    this.client.close();
    this.side.close();
    await this.server.stop(2000);
    await this.harness.scheduler.stop();
    this.harness.cluster.stop();
    rmSync(join(this.secretsDir, ".."), { recursive: true, force: true });
  }
}

function outcome(status: grpc.StatusObject, messages: Buffer[], open: boolean, ms: number): CallOutcome {
  return {
    code: status.code,
    details: status.details,
    metadata: status.metadata,
    messages,
    trailerBytes: encodedTrailerBytes(status.code, status.details, status.metadata),
    openAtDeadline: open,
    ms,
  };
}
