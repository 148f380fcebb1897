/**
 * One ZooKeeper client, kept alive. node-zookeeper-client never notices a hung server or a
 * half-open connection, and an expired session is dead for good (toolchain.md §6), so:
 *
 * - a liveness probe runs `exists("/")` every sessionTimeout/3 with a sessionTimeout/3 deadline;
 *   two misses in a row count as a lost connection: "unavailable" is reported and the client is
 *   closed and built anew;
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
  /** The store is unreachable: a probe missed twice or the session expired. */
  | { readonly kind: "unavailable"; readonly reason: string };

export interface ZkSessionOptions {
  /** "host:port[,host:port]" without chroot. */
  readonly hosts: string;
  /** @default 10_000 */
  readonly sessionTimeoutMs?: number;
  /** Deadline of every call. @default 10_000 */
  readonly callTimeoutMs?: number;
  /** Probe period; the probe's own deadline is the same. @default sessionTimeoutMs / 3 */
  readonly probeIntervalMs?: number;
  readonly onEvent?: (event: ZkSessionEvent) => void;
}

export class ZkSession {
  readonly calls: ZkCalls;
  private client: Client;
  private generation = 0;
  private connected = false;
  private misses = 0;
  private probing = false;
  private closed = false;
  private readonly probeTimer: NodeJS.Timeout;
  private readonly sessionTimeoutMs: number;
  private readonly probeIntervalMs: number;

  private constructor(private readonly options: ZkSessionOptions) {
    this.sessionTimeoutMs = options.sessionTimeoutMs ?? 10_000;
    this.probeIntervalMs = options.probeIntervalMs ?? Math.max(100, Math.floor(this.sessionTimeoutMs / 3));
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
        this.misses = 0;
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
    this.misses = 0;
    this.options.onEvent?.({ kind: "unavailable", reason });
    const old = this.client;
    old.removeAllListeners();
    old.close();
    this.generation++;
    this.client = this.build();
  }

  private async probe(): Promise<void> {
    if (this.probing || this.closed) return;
    this.probing = true;
    const client = this.client;
    try {
      await this.calls.exists("/", this.probeIntervalMs);
      if (client === this.client) this.misses = 0;
    } catch {
      if (client === this.client && ++this.misses >= 2) this.replace("liveness probe missed twice");
    } finally {
      this.probing = false;
    }
  }
}
