/**
 * N replicas on one ZooKeeper root and one data directory, for the failover e2e test and the
 * failover benchmark: start them, find the one that leads (its own "leading" log line), kill it,
 * start a slot again, and time "another replica answers PutService OK".
 */
import { specText } from "./specs.js";
import type { Replica, ReplicaOptions } from "./replica.js";
import { killReplica, spawnReplica } from "./replica.js";
import { ReplicaClients } from "./leader-calls.js";

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class ReplicaSet {
  /** The replica in each slot now. */
  readonly slots: Replica[] = [];
  /** Every replica ever started (for leader-intervals.ts). */
  readonly all: Replica[] = [];
  private readonly addresses = new Map<Replica, string>();
  private starts = 0;
  readonly clients = new ReplicaClients(() => this.slots.filter((r) => r.alive() && this.addresses.has(r)).map((r) => this.addresses.get(r)!));

  constructor(private readonly options: Omit<ReplicaOptions, "name">) {}

  /** Starts `n` replicas and waits until each serves its API. */
  async start(n: number): Promise<void> {
    for (let i = 0; i < n; i++) this.spawn(i);
    await Promise.all(this.slots.map((r) => r.serving));
  }

  private spawn(slot: number): Replica {
    const r = spawnReplica({ ...this.options, name: `${slot}-${String(this.starts++).padStart(3, "0")}` });
    this.slots[slot] = r;
    this.all.push(r);
    void r.serving.then((a) => this.addresses.set(r, a), () => undefined);
    return r;
  }

  /** Starts the replica of `slot` again (it was killed) and waits until it serves. */
  async restart(slot: number): Promise<Replica> {
    const r = this.spawn(slot);
    await r.serving;
    return r;
  }

  address(r: Replica): string | undefined {
    return this.addresses.get(r);
  }

  /** The slot whose live replica last logged "leading", or -1. */
  leaderSlot(): number {
    return this.slots.findIndex((r) => r.alive() && r.leading());
  }

  /** Waits for a leader other than `except`; its slot, or -1 after `timeoutMs`. */
  async untilLeader(timeoutMs: number, except?: Replica): Promise<number> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const i = this.leaderSlot();
      if (i >= 0 && this.slots[i] !== except) return i;
      if (performance.now() > deadline) return -1;
      await sleep(20);
    }
  }

  /**
   * performance.now() when a live replica other than `not` answered PutService OK (the service
   * `name` put again with the simple spec, unchanged), polling each address; undefined after `timeoutMs`.
   */
  async putServedBy(name: string, not: Replica | undefined, timeoutMs: number): Promise<number | undefined> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      for (const r of this.slots) {
        const a = this.addresses.get(r);
        if (r === not || !r.alive() || a === undefined) continue;
        try {
          await this.clients.client(a).putService({ name, spec: specText("simple"), parameters: {} }, { deadlineMs: 1000 });
          return performance.now();
        } catch {
          // a standby, or not yet
        }
      }
      await sleep(20);
    }
    return undefined;
  }

  async close(): Promise<void> {
    this.clients.close();
    await Promise.all(this.slots.map((r) => killReplica(r)));
  }
}
