/**
 * Follows the leader of a replicated scheduler: one channel per address (opened on first use,
 * reused, all closed by `close()`), the address that answered last remembered so the next call
 * goes there first, and each call re-sent along the rule of retry-rule.ts — to the leader a
 * standby names, or to the next address — within the call's deadline and `maxHops` attempts (two
 * standbys naming each other cannot loop for ever: the last error is the answer). Redirect, not
 * proxy: the call goes straight to the leader, so credentials and TLS stay end to end.
 */
import * as grpc from "@grpc/grpc-js";
import { nextStep } from "./retry-rule.js";

/** The addresses one failed call tried, for error messages ("no leader at a, b, c"). */
export interface CallTrail {
  /** The address of the last attempt (whose error the call failed with). */
  readonly address: string;
  /** Every address tried, in order, each once. */
  readonly tried: readonly string[];
}

const trails = new WeakMap<object, CallTrail>();

/** Where a failed call of a multi-address client went; undefined for other errors. */
export function callTrail(err: unknown): CallTrail | undefined {
  return typeof err === "object" && err !== null ? trails.get(err) : undefined;
}

export interface RouterOptions {
  /** Attempts per call at most. @default 2 × addresses + 2 */
  readonly maxHops?: number;
  /** A call succeeded at another address than the last one that answered (not called for the first). */
  readonly onLeaderChange?: (address: string, previous: string) => void;
}

/** One attempt of a call at `address` (given the time left of its deadline, if it has one). */
export type Attempt<C, T> = (client: C, address: string, remainingMs: number | undefined) => Promise<T>;

export class LeaderRouter<C extends { close(): void }> {
  readonly addresses: readonly string[];
  readonly #open: (address: string) => C;
  readonly #clients = new Map<string, C>();
  readonly #maxHops: number;
  readonly #onLeaderChange: ((address: string, previous: string) => void) | undefined;
  /** The address that answered last: where calls start. */
  #leader: string | undefined;
  /** Where the next call starts when no address answered yet, or the leader stopped answering. */
  #start: string;
  #closed = false;

  constructor(addresses: readonly string[], open: (address: string) => C, options: RouterOptions = {}) {
    if (addresses.length === 0) throw new Error("no scheduler address");
    this.addresses = addresses;
    this.#open = open;
    this.#start = addresses[0]!;
    this.#maxHops = options.maxHops ?? 2 * addresses.length + 2;
    this.#onLeaderChange = options.onLeaderChange;
  }

  /** The address that answered last (the leader, as far as this client knows). */
  get leader(): string | undefined {
    return this.#leader;
  }

  /** The channel of `address`, opened once; none once the router is closed (a resuming stream must not reopen one). */
  client(address: string): C {
    if (this.#closed) throw closedError();
    let client = this.#clients.get(address);
    if (client === undefined) {
      client = this.#open(address);
      this.#clients.set(address, client);
    }
    return client;
  }

  /** Runs `attempt` at the leader, following redirects and trying other addresses as retry-rule.ts allows. */
  async call<T>(method: string, attempt: Attempt<C, T>, options: { readonly deadlineMs?: number; readonly signal?: AbortSignal } = {}): Promise<T> {
    const deadline = options.deadlineMs === undefined ? undefined : Date.now() + options.deadlineMs;
    const route = new Route(this, method);
    for (;;) {
      const address = route.address;
      try {
        const result = await attempt(this.client(address), address, deadline === undefined ? undefined : Math.max(deadline - Date.now(), 1));
        this.answered(address);
        return result;
      } catch (err) {
        const expired = deadline !== undefined && Date.now() >= deadline;
        if (expired || options.signal?.aborted === true || !route.advance(err)) throw route.failed(err);
      }
    }
  }

  /**
   * Opens a server stream at the leader the same way; once a message has come, its errors are
   * the caller's (a stream is never silently replayed: follow-stream.ts resumes by sequence).
   */
  async *stream<T>(method: string, open: (client: C, address: string) => AsyncIterable<T>, signal?: AbortSignal): AsyncGenerator<T> {
    const route = new Route(this, method);
    for (;;) {
      const address = route.address;
      let received = false;
      try {
        for await (const message of open(this.client(address), address)) {
          if (!received) this.answered(address);
          received = true;
          yield message;
        }
        this.answered(address);
        return;
      } catch (err) {
        if (received || signal?.aborted === true || !route.advance(err)) throw route.failed(err);
      }
    }
  }

  /** `address` answered: it leads (or is the only one). */
  answered(address: string): void {
    const previous = this.#leader;
    this.#leader = address;
    this.#start = address;
    if (previous !== undefined && previous !== address) this.#onLeaderChange?.(address, previous);
  }

  /** Where a call starts. */
  get start(): string {
    return this.#start;
  }

  /** The address `address` failed unreached (or unavailable): start the next call at the following one. */
  passed(address: string, next: string): void {
    if (this.#start === address) this.#start = next;
  }

  get maxHops(): number {
    return this.#maxHops;
  }

  close(): void {
    this.#closed = true;
    for (const client of this.#clients.values()) client.close();
    this.#clients.clear();
  }
}

/** What a call on a closed client fails with: FAILED_PRECONDITION, which nothing retries or resumes. */
function closedError(): Error {
  return Object.assign(new Error("9 FAILED_PRECONDITION: the client was closed"), { code: grpc.status.FAILED_PRECONDITION, details: "the client was closed", metadata: new grpc.Metadata() });
}

/** One call's way through the addresses. */
class Route<C extends { close(): void }> {
  address: string;
  readonly #router: LeaderRouter<C>;
  readonly #method: string;
  readonly #tried: string[] = [];
  /** Addresses that failed as unreachable or unavailable in this call. */
  readonly #down = new Set<string>();
  #hops = 0;

  constructor(router: LeaderRouter<C>, method: string) {
    this.#router = router;
    this.#method = method;
    this.address = router.start;
  }

  /** Moves to where `err` says the call may go next; false when it may not go anywhere. */
  advance(err: unknown): boolean {
    this.#note(this.address);
    if (++this.#hops >= this.#router.maxHops) return false;
    const step = nextStep(err, this.#method);
    if (step.kind === "fail") return false;
    // A leader found down in this very call (a standby's stale word during a failover): try the next one instead.
    if (step.kind === "leader" && !this.#down.has(step.address)) {
      this.address = step.address;
      return true;
    }
    if (step.kind === "next") this.#down.add(this.address);
    const { addresses } = this.#router;
    const first = addresses.indexOf(this.address) + 1; // 0 for a leader outside the list
    for (let i = 0; i < addresses.length; i++) {
      const candidate = addresses[(first + i) % addresses.length]!;
      if (candidate === this.address) continue;
      if (this.#down.has(candidate)) continue;
      this.#router.passed(this.address, candidate);
      this.address = candidate;
      return true;
    }
    return false;
  }

  /** The error the call fails with, its trail recorded. */
  failed(err: unknown): unknown {
    this.#note(this.address);
    if (typeof err === "object" && err !== null) trails.set(err, { address: this.address, tried: [...this.#tried] });
    return err;
  }

  #note(address: string): void {
    if (!this.#tried.includes(address)) this.#tried.push(address);
  }
}
