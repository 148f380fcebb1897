/**
 * Finding the leading master (mesos-v1-api.md §5.2): a fixed address, or ZooKeeper, where masters
 * contend under a znode with ephemeral sequential children `json.info_<seq>` holding MasterInfo
 * JSON. The leader is the member with the smallest sequence across every `<label>_<seq>` child, as
 * Mesos's own detector decides; when that member is not `json.info` (an old protobuf-format master)
 * no leader is usable until it changes. The children watch is re-armed on every read, so a leader
 * change is seen at once and reported to the driver, which resubscribes to the new leader.
 */
import zookeeper from "node-zookeeper-client";
import type { Client } from "node-zookeeper-client";
import { SchedulerError } from "../../../domain/errors.js";
import type { Logger } from "../../../engine/ports.js";
import { withDeadline, zkErrorCode } from "../../zookeeper/deadline.js";
import type { MasterAddress } from "./driver-address.js";
import type { Endpoint } from "./transport.js";

export interface MasterDetector {
  /** The leading master; waits until one is known. Rejects (unavailable) once closed. */
  leader(): Promise<Endpoint>;
  /** `listener` hears every change of leader after the first one known. */
  onChange(listener: (leader: Endpoint) => void): void;
  close(): void;
}

export interface DetectorOptions {
  readonly log: Logger;
  /** The scheme for masters found in ZooKeeper (MasterInfo has none): https when a CA file is configured. */
  readonly scheme: "http:" | "https:";
  /** @default 10_000 */
  readonly sessionTimeoutMs?: number;
  /** Deadline of each ZooKeeper call. @default 10_000 */
  readonly callTimeoutMs?: number;
}

export function createDetector(address: MasterAddress, options: DetectorOptions): MasterDetector {
  switch (address.kind) {
    case "http":
      return new StaticDetector({ kind: "http", url: address.url });
    case "unix":
      return new StaticDetector({ kind: "unix", socketPath: address.socketPath });
    case "zk":
      return new ZooKeeperDetector(address.servers, address.path, options);
  }
}

class StaticDetector implements MasterDetector {
  private closed = false;
  constructor(private readonly endpoint: Endpoint) {}
  leader(): Promise<Endpoint> {
    return this.closed ? Promise.reject(closedError()) : Promise.resolve(this.endpoint);
  }
  onChange(): void {}
  close(): void {
    this.closed = true;
  }
}

/** A `<label>_<sequence>` member of the masters' group. */
interface Member {
  readonly name: string;
  readonly label: string;
  readonly sequence: number;
}

/** Children named `<label>_<digits>`; others are not group members. */
export function groupMembers(children: readonly string[]): Member[] {
  const members: Member[] = [];
  for (const name of children) {
    const m = /^(.*)_(\d+)$/.exec(name);
    if (m !== null) members.push({ name, label: m[1]!, sequence: Number(m[2]) });
  }
  return members.sort((a, b) => a.sequence - b.sequence);
}

/** The master's address in MasterInfo JSON: `address.{hostname,ip,port}`, else the top-level hostname and port. */
export function masterInfoEndpoint(data: Buffer, scheme: "http:" | "https:"): Endpoint {
  let info: unknown;
  try {
    info = JSON.parse(data.toString("utf8"));
  } catch (err) {
    throw new SchedulerError("unavailable", `the leading master's MasterInfo is not JSON: ${(err as Error).message}`);
  }
  const o = (typeof info === "object" && info !== null ? info : {}) as Record<string, unknown>;
  const a = (typeof o["address"] === "object" && o["address"] !== null ? o["address"] : {}) as Record<string, unknown>;
  const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);
  const host = str(a["hostname"]) ?? str(a["ip"]) ?? str(o["hostname"]);
  const port = typeof a["port"] === "number" ? a["port"] : typeof o["port"] === "number" ? o["port"] : undefined;
  if (host === undefined || port === undefined || !Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new SchedulerError("unavailable", "the leading master's MasterInfo has no usable address (hostname or ip, and port)");
  }
  const h = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  return { kind: "http", url: new URL(`${scheme}//${h}:${port}`) };
}

function endpointKey(e: Endpoint): string {
  return e.kind === "unix" ? `unix:${e.socketPath}` : e.url.href;
}

function closedError(): SchedulerError {
  return new SchedulerError("unavailable", "the master detector is closed");
}

/** Reads past a missing node or a lost connection are retried this many times before waiting for the watch. */
const READ_RETRIES = 5;

class ZooKeeperDetector implements MasterDetector {
  private client: Client;
  private current: Endpoint | undefined;
  private readonly waiters: { resolve: (e: Endpoint) => void; reject: (e: unknown) => void }[] = [];
  private readonly listeners: ((e: Endpoint) => void)[] = [];
  private readonly log: Logger;
  private closed = false;
  private reading = false;
  private readAgain = false;
  private connected = false;
  /** Says so once when ZooKeeper cannot be reached within a session timeout (the library retries silently). */
  private readonly unreachable: NodeJS.Timeout;

  constructor(
    private readonly servers: string,
    private readonly path: string,
    private readonly options: DetectorOptions,
  ) {
    // node-zookeeper-client's socket guard is installed by the process that wires this up (app.ts).
    this.log = options.log.child({ zookeeper: servers, znode: path });
    this.client = this.build();
    this.unreachable = setTimeout(() => {
      if (!this.connected && !this.closed) this.log.warn({}, "cannot reach ZooKeeper to find the leading Mesos master; still trying");
    }, options.sessionTimeoutMs ?? 10_000);
    this.unreachable.unref();
  }

  leader(): Promise<Endpoint> {
    if (this.closed) return Promise.reject(closedError());
    if (this.current !== undefined) return Promise.resolve(this.current);
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  onChange(listener: (leader: Endpoint) => void): void {
    this.listeners.push(listener);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.unreachable);
    this.client.removeAllListeners();
    this.client.close();
    for (const w of this.waiters.splice(0)) w.reject(closedError());
  }

  private build(): Client {
    const client = zookeeper.createClient(this.servers, {
      sessionTimeout: this.options.sessionTimeoutMs ?? 10_000,
      spinDelay: 200,
      retries: 0,
    });
    client.on("state", (state) => {
      if (this.closed || client !== this.client) return;
      if (state === zookeeper.State.SYNC_CONNECTED || state === zookeeper.State.CONNECTED_READ_ONLY) {
        this.connected = true;
        this.refresh();
      } else if (state === zookeeper.State.EXPIRED) {
        // An expired client is dead for good (toolchain.md §6): build a new one, which reads again.
        this.log.warn({}, "ZooKeeper session expired; reconnecting");
        client.removeAllListeners();
        client.close();
        this.client = this.build();
      }
    });
    client.connect();
    return client;
  }

  /** Reads the group (again); concurrent triggers coalesce into one more read. */
  private refresh(): void {
    if (this.reading) {
      this.readAgain = true;
      return;
    }
    this.reading = true;
    void this.read()
      .catch((err: unknown) => this.log.warn({ err }, "reading the Mesos masters from ZooKeeper failed; waiting for a change"))
      .finally(() => {
        this.reading = false;
        if (this.readAgain && !this.closed) {
          this.readAgain = false;
          this.refresh();
        }
      });
  }

  private async read(): Promise<void> {
    for (let attempt = 0; attempt < READ_RETRIES && !this.closed; attempt++) {
      const children = await this.children();
      if (children === undefined) {
        // The exists watch fires when the znode is created.
        this.log.warn({}, "the masters' znode does not exist (yet); waiting for it");
        return;
      }
      const leader = groupMembers(children)[0];
      if (leader === undefined) {
        this.log.warn({}, "no Mesos master is registered in ZooKeeper; waiting for one");
        return;
      }
      if (leader.label !== "json.info") {
        this.log.error({ member: leader.name }, "the leading Mesos master registered in a format other than JSON (json.info_); waiting for a change");
        return;
      }
      const data = await this.data(`${this.path}/${leader.name}`);
      if (data === undefined) continue; // gone between the list and the read: list again
      this.setLeader(masterInfoEndpoint(data, this.options.scheme), leader.name);
      return;
    }
  }

  /** The children, with a watch armed; undefined when the znode does not exist (an exists watch is armed then). */
  private children(): Promise<string[] | undefined> {
    const client = this.client;
    const timeout = this.options.callTimeoutMs ?? 10_000;
    return withDeadline<string[] | undefined>(`getChildren ${this.path}`, timeout, (done) =>
      client.getChildren(
        this.path,
        () => this.refresh(),
        (err, children) => {
          if (err && zkErrorCode(err) === zookeeper.Exception.NO_NODE) {
            client.exists(this.path, () => this.refresh(), () => done(null, undefined));
          } else done(err, children);
        },
      ),
    );
  }

  private data(path: string): Promise<Buffer | undefined> {
    const client = this.client;
    return withDeadline<Buffer | undefined>(`getData ${path}`, this.options.callTimeoutMs ?? 10_000, (done) =>
      client.getData(path, (err, data) => {
        if (err && zkErrorCode(err) === zookeeper.Exception.NO_NODE) done(null, undefined);
        else done(err, data ?? Buffer.alloc(0));
      }),
    );
  }

  private setLeader(endpoint: Endpoint, member: string): void {
    if (this.closed) return;
    const previous = this.current;
    if (previous !== undefined && endpointKey(previous) === endpointKey(endpoint)) return;
    this.current = endpoint;
    this.log.info({ member, leader: endpointKey(endpoint) }, previous === undefined ? "found the leading Mesos master" : "the leading Mesos master changed");
    for (const w of this.waiters.splice(0)) w.resolve(endpoint);
    if (previous !== undefined) for (const l of this.listeners) l(endpoint);
  }
}
