/**
 * Calls to "whichever replica leads" for the chaos harness, the failover test and benchmark:
 * try each replica's address, and on a standby's UNAVAILABLE follow its `corral-leader` trailer.
 * And a WatchUninstall client that resumes by sequence number on the leader after every broken
 * or stale stream. Kept in the harness (not the typed client's own leader following) so the
 * harness checks the servers' behaviour with as little client logic in between as it can.
 */
import * as grpc from "@grpc/grpc-js";
import { Health, HealthCheckResponse_ServingStatus, createAdminClient, createPromiseClient } from "../../src/client/index.js";
import type { AdminClient } from "../../src/client/index.js";
import { LEADER_METADATA_KEY } from "../../src/adapters/grpc/status.js";
import type { SeenEvent } from "./uninstall-events.js";

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export const ADMIN_SERVICE = "corral.v1.MultiServiceAdmin";

/** The `corral-leader` trailer of a failed call, if any. */
export function leaderHint(err: unknown): string | undefined {
  const md = (err as { metadata?: unknown } | null)?.metadata;
  if (!(md instanceof grpc.Metadata)) return undefined;
  const v = md.get(LEADER_METADATA_KEY)[0];
  return typeof v === "string" && v !== "" ? v : undefined;
}

/** One admin client per address, made on first use. */
export class ReplicaClients {
  private readonly clients = new Map<string, AdminClient>();
  /** The address that answered last as the leader. */
  leader: string | undefined;

  constructor(private readonly addresses: () => readonly string[], private readonly deadlineMs = 3000) {}

  client(address: string): AdminClient {
    let c = this.clients.get(address);
    if (!c) {
      c = createAdminClient({ address, defaultDeadlineMs: this.deadlineMs });
      this.clients.set(address, c);
    }
    return c;
  }

  /** The addresses to try, the last leader first. */
  order(): string[] {
    const all = [...this.addresses()];
    return this.leader !== undefined && all.includes(this.leader) ? [this.leader, ...all.filter((a) => a !== this.leader)] : all;
  }

  /**
   * `call` on the leader: each address once (following a `corral-leader` trailer first), then again
   * after a short pause, until one answers or `timeoutMs` passes (then the last error is thrown).
   * Errors other than UNAVAILABLE / DEADLINE_EXCEEDED / CANCELLED are the leader's answer: thrown at once.
   */
  async onLeader<T>(call: (c: AdminClient) => Promise<T>, timeoutMs: number): Promise<T> {
    const deadline = performance.now() + timeoutMs;
    let last: unknown = new Error("no replica address");
    for (;;) {
      const queue = this.order();
      const tried = new Set<string>();
      while (queue.length > 0) {
        const address = queue.shift()!;
        if (tried.has(address)) continue;
        tried.add(address);
        try {
          const r = await call(this.client(address));
          this.leader = address;
          return r;
        } catch (err) {
          last = err;
          const code = (err as { code?: number }).code;
          if (code !== grpc.status.UNAVAILABLE && code !== grpc.status.DEADLINE_EXCEEDED && code !== grpc.status.CANCELLED) throw err;
          const hint = leaderHint(err);
          if (hint !== undefined && !tried.has(hint)) queue.unshift(hint);
        }
      }
      if (performance.now() > deadline) throw last;
      await sleep(50);
    }
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}

/** Whether `address` reports the admin service SERVING (it leads). */
export async function adminServing(address: string, deadlineMs = 1000): Promise<boolean> {
  const health = createPromiseClient(Health, address);
  try {
    const r = await health.check({ service: ADMIN_SERVICE }, { deadlineMs });
    return r.status === HealthCheckResponse_ServingStatus.SERVING;
  } catch {
    return false;
  } finally {
    health.close();
  }
}

/**
 * Follows every removal (WatchUninstall, no names) from the start, on whichever replica leads,
 * resuming after the last sequence number seen. A stream on a replica that stopped leading (its
 * health no longer SERVING for the admin service) is dropped and resumed on the leader.
 */
export class ResumingUninstallWatcher {
  readonly events: SeenEvent[] = [];
  /** Streams opened (1 + resumptions). */
  streams = 0;
  private readonly stop = new AbortController();
  private readonly done: Promise<void>;

  constructor(private readonly clients: ReplicaClients) {
    this.done = this.run();
  }

  private get after(): bigint {
    return this.events.at(-1)?.sequence ?? 0n;
  }

  private async run(): Promise<void> {
    while (!this.stop.signal.aborted) {
      const address = await this.findLeader();
      if (address === undefined) {
        await sleep(100);
        continue;
      }
      // close() may have come while the leader was looked for: a listener added after the abort never fires.
      if (this.stop.signal.aborted) break;
      const stream = new AbortController();
      const onStop = (): void => stream.abort();
      this.stop.signal.addEventListener("abort", onStop);
      // The stream's replica is checked every 500 ms: a deposed or frozen leader's stream may just go quiet.
      const probe = (async (): Promise<void> => {
        while (!stream.signal.aborted) {
          await sleep(500);
          if (!stream.signal.aborted && !(await adminServing(address))) stream.abort();
        }
      })();
      this.streams++;
      try {
        for await (const { event } of this.clients.client(address).watchUninstall({ after: this.after }, { signal: stream.signal })) {
          if (event) this.events.push({ sequence: event.sequence, name: event.name, kind: event.kind, removalId: event.removalId });
        }
      } catch {
        // broken, cancelled or refused: resume on the leader
      } finally {
        stream.abort();
        this.stop.signal.removeEventListener("abort", onStop);
        await probe;
      }
      if (!this.stop.signal.aborted) await sleep(50);
    }
  }

  private async findLeader(): Promise<string | undefined> {
    for (const a of this.clients.order()) {
      if (this.stop.signal.aborted) return undefined;
      if (await adminServing(a, 500)) return a;
    }
    return undefined;
  }

  /** Waits until the watcher has seen a terminal event of each name, or `timeoutMs`. */
  async waitFor(names: readonly string[], terminal: (e: SeenEvent) => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      if (names.every((n) => this.events.some((e) => e.name === n && terminal(e)))) return true;
      if (performance.now() > deadline) return false;
      await sleep(50);
    }
  }

  async close(): Promise<void> {
    this.stop.abort();
    await this.done;
  }
}

/**
 * The same, as a user of the typed client does it: `createAdminClient` with every replica's
 * address and `followUninstall` (it resumes by sequence number at whichever replica leads).
 */
export class FollowingUninstallWatcher {
  readonly events: SeenEvent[] = [];
  /** Streams opened (1 + resumptions). */
  streams = 1;
  /** Why following stopped, if it did before close(). */
  failure: unknown;
  private readonly stop = new AbortController();
  private readonly client: AdminClient;
  private readonly done: Promise<void>;

  constructor(addresses: readonly string[]) {
    this.client = createAdminClient({ addresses });
    this.done = this.run();
  }

  private async run(): Promise<void> {
    try {
      for await (const { event } of this.client.followUninstall({}, { signal: this.stop.signal, onResume: () => this.streams++ })) {
        if (event) this.events.push({ sequence: event.sequence, name: event.name, kind: event.kind, removalId: event.removalId });
      }
    } catch (err) {
      if (!this.stop.signal.aborted) this.failure = err;
    }
  }

  async waitFor(names: readonly string[], terminal: (e: SeenEvent) => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      if (names.every((n) => this.events.some((e) => e.name === n && terminal(e)))) return true;
      if (performance.now() > deadline || this.failure !== undefined) return false;
      await sleep(50);
    }
  }

  async close(): Promise<void> {
    this.stop.abort();
    await this.done;
    this.client.close();
  }
}
