/**
 * One ZooKeeper client, kept alive. node-zookeeper-client never notices a hung server or a
 * half-open connection, and an expired session is dead for good (toolchain.md §6), so:
 *
 * - a liveness probe runs `exists("/")` every sessionTimeout/12 (one at a time); once no probe
 *   sent in the last 2/3 of the session timeout was answered (measured from the send time of the
 *   last answered probe), "unavailable" is reported and the client is closed and built anew. The
 *   server expires our session (and our ephemeral lock node) no sooner than a session timeout
 *   after the last packet it got from us, so a leader fenced at 2/3 has stepped down before
 *   another scheduler can take the lock;
 * - an EXPIRED state also builds a new client (callers re-create their ephemerals on "session").
 *
 * Calls go to whatever client is current; their own deadlines bound them in between.
 */
import zookeeper from "node-zookeeper-client";
import type { Client } from "node-zookeeper-client";
import { SchedulerError } from "../../../domain/errors.js";
import { ZkCalls } from "./calls.js";
import { installSocketDataGuard } from "./guard.js";

installSocketDataGuard();

export type ZkSessionEvent =
  /** A (new) session is established; ephemerals from an older one are gone. */
  | { readonly kind: "session"; readonly generation: number }
  | { readonly kind: "disconnected" }
  /** The store is unreachable: no probe answered for 2/3 of the session timeout, or the session expired. */
  | { readonly kind: "unavailable"; readonly reason: string };

export interface ZkSessionOptions {
  /** "host:port[,host:port]" without chroot. */
  readonly hosts: string;
  /** @default 10_000 */
  readonly sessionTimeoutMs?: number;
  /** Deadline of every call. @default 10_000 */
  readonly callTimeoutMs?: number;
  /** Probe period. @default sessionTimeoutMs / 12 */
  readonly probeIntervalMs?: number;
  readonly onEvent?: (event: ZkSessionEvent) => void;
}

export class ZkSession {
  readonly calls: ZkCalls;
  private client: Client;
  private generation = 0;
  private connected = false;
  /** When the last answered probe was sent (or the current client was built / connected). */
  private answeredSentAt = Date.now();
  private probing = false;
  private closed = false;
  private readonly probeTimer: NodeJS.Timeout;
  private readonly sessionTimeoutMs: number;
  private readonly probeIntervalMs: number;

  private constructor(private readonly options: ZkSessionOptions) {
    this.sessionTimeoutMs = options.sessionTimeoutMs ?? 10_000;
    this.probeIntervalMs = options.probeIntervalMs ?? Math.max(50, Math.floor(this.sessionTimeoutMs / 12));
    this.calls = new ZkCalls(() => this.client, options.callTimeoutMs ?? 10_000);
    this.client = this.build();
    this.probeTimer = setInterval(() => void this.probe(), this.probeIntervalMs);
    this.probeTimer.unref();
  }

  /** Connects; rejects with unavailable when no session is established within the call deadline. */
  static async open(options: ZkSessionOptions): Promise<ZkSession> {
    const session = new ZkSession(options);
    try {
      await session.waitConnected(options.callTimeoutMs ?? 10_000);
    } catch (err) {
      session.close();
      throw err;
    }
    return session;
  }

  /** True while the current client holds a live session (as far as we know). */
  get isConnected(): boolean {
    return this.connected;
  }

  /** Resolves once the current client is connected. */
  waitConnected(timeoutMs: number): Promise<void> {
    if (this.connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const client = this.client;
      const timer = setTimeout(() => {
        client.removeListener("connected", onConnected);
        reject(new SchedulerError("unavailable", `zookeeper ${this.options.hosts}: no session within ${timeoutMs} ms`));
      }, timeoutMs);
      const onConnected = (): void => {
        clearTimeout(timer);
        resolve();
      };
      client.once("connected", onConnected);
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.probeTimer);
    this.connected = false;
    this.client.removeAllListeners();
    this.client.close();
  }

  private build(): Client {
    const client = zookeeper.createClient(this.options.hosts, {
      sessionTimeout: this.sessionTimeoutMs,
      spinDelay: 200,
      retries: 0,
    });
    client.on("state", (state) => {
      if (this.closed || client !== this.client) return;
      if (state === zookeeper.State.SYNC_CONNECTED || state === zookeeper.State.CONNECTED_READ_ONLY) {
        const fresh = !this.connected;
        this.connected = true;
        this.answeredSentAt = Math.max(this.answeredSentAt, Date.now());
        if (fresh) this.options.onEvent?.({ kind: "session", generation: this.generation });
      } else if (state === zookeeper.State.DISCONNECTED) {
        this.connected = false;
        this.options.onEvent?.({ kind: "disconnected" });
      } else if (state === zookeeper.State.EXPIRED) {
        this.replace("session expired");
      }
    });
    client.connect();
    return client;
  }

  /** Drops the current client (its session is lost or unusable) and starts a new one. */
  private replace(reason: string): void {
    if (this.closed) return;
    this.connected = false;
    this.answeredSentAt = Date.now(); // the new client's grace to connect
    this.options.onEvent?.({ kind: "unavailable", reason });
    const old = this.client;
    old.removeAllListeners();
    old.close();
    this.generation++;
    this.client = this.build();
  }

  /** The ZooKeeper silence after which the client counts as lost: 2/3 of the session timeout. */
  get livenessLimitMs(): number {
    return Math.floor((this.sessionTimeoutMs * 2) / 3);
  }

  private async probe(): Promise<void> {
    if (this.closed) return;
    const silentMs = Date.now() - this.answeredSentAt;
    if (silentMs >= this.livenessLimitMs) {
      this.replace(`zookeeper did not answer for ${silentMs} ms (2/3 of the ${this.sessionTimeoutMs} ms session timeout)`);
      return;
    }
    if (this.probing) return;
    this.probing = true;
    const client = this.client;
    const sentAt = Date.now();
    try {
      await this.calls.exists("/", this.livenessLimitMs);
      if (client === this.client) this.answeredSentAt = Math.max(this.answeredSentAt, sentAt);
    } catch {
      // a miss: the next tick measures the silence
    } finally {
      this.probing = false;
    }
  }
}
