/**
 * N replicas on one ZooKeeper root and one data directory, for the replicated chaos run, the
 * failover e2e test and the failover benchmark: start them, find the one that leads (its own
 * "leading" log line), kill one, start a slot again, and time "another replica answers
 * PutService OK". Optionally a supervisor: a replica that exits without being killed is noted
 * and started again, as systemd's Restart=always would.
 */
import { specText } from "./specs.js";
import type { Replica, ReplicaOptions } from "./replica.js";
import { killReplica, spawnReplica } from "./replica.js";
import { ReplicaClients } from "./leader-calls.js";

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface ReplicaSetOptions extends Omit<ReplicaOptions, "name" | "listen"> {
  /** The API port of each slot, kept across restarts (clients given the addresses once still reach it). @default a free one per start */
  readonly ports?: readonly number[];
  /** Supervise: a replica that exits without kill() is reported here, and its slot started again 500 ms later. @default not supervised */
  readonly onOwnExit?: (r: Replica) => void;
}

export class ReplicaSet {
  /** The replica in each slot now. */
  readonly slots: Replica[] = [];
  /** Every replica ever started (for leader-intervals.ts). */
  readonly all: Replica[] = [];
  private readonly addresses = new Map<Replica, string>();
  private readonly killed = new Set<Replica>();
  private starts = 0;
  private closing = false;
  readonly clients = new ReplicaClients(() => this.slots.filter((r) => r.alive() && this.addresses.has(r)).map((r) => this.addresses.get(r)!));

  constructor(private readonly options: ReplicaSetOptions) {}

  /** Starts `n` replicas and waits until each serves its API. */
  async start(n: number): Promise<void> {
    for (let i = 0; i < n; i++) this.spawn(i);
    await Promise.all(this.slots.map((r) => r.serving));
  }

  private spawn(slot: number): Replica {
    const port = this.options.ports?.[slot];
    const r = spawnReplica({ ...this.options, name: `${slot}-${String(this.starts++).padStart(3, "0")}`, ...(port === undefined ? {} : { listen: `127.0.0.1:${port}` }) });
    this.slots[slot] = r;
    this.all.push(r);
    void r.serving.then((a) => this.addresses.set(r, a), () => undefined);
    const onOwnExit = this.options.onOwnExit;
    if (onOwnExit) {
      void r.exited.then(() => {
        if (this.killed.has(r) || this.closing) return;
        onOwnExit(r);
        setTimeout(() => {
          if (this.slots[slot] === r && !this.closing) this.spawn(slot);
        }, 500);
      });
    }
    return r;
  }

  /** Starts the replica of `slot` again (it was killed) and waits until it serves. */
  async restart(slot: number): Promise<Replica> {
    const r = this.spawn(slot);
    await r.serving;
    return r;
  }

  /** Starts every dead slot again; waits (at most `timeoutMs`) until each serves. */
  async restartDead(timeoutMs = 60_000): Promise<void> {
    const fresh = this.slots.flatMap((r, slot) => (r.alive() ? [] : [this.spawn(slot)]));
    const timer = new Promise<void>((r) => setTimeout(r, timeoutMs).unref());
    await Promise.all(fresh.map((r) => Promise.race([r.serving.catch(() => undefined), timer])));
  }

  /** kill -9 of a replica (not counted as its own exit). */
  async kill(r: Replica): Promise<void> {
    this.killed.add(r);
    await killReplica(r);
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
   * `name` put again with the simple spec, unchanged), polling each address; undefined after
   * `timeoutMs`. With every replica dead they are started again first (a failover needs one).
   */
  async putServedBy(name: string, not: Replica | undefined, timeoutMs: number): Promise<number | undefined> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      if (!this.slots.some((r) => r !== not && r.alive())) void this.restartDead();
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
    this.closing = true;
    this.clients.close();
    await Promise.all(this.slots.map((r) => killReplica(r)));
  }
}
