/**
 * Test helpers for the agent's tests: an agent on a temp state directory, raw HTTP over its
 * Unix socket, and a subscription whose events are read with the driver's RecordIO decoder and
 * event codec (so the tests read what the driver reads).
 */
import { readdirSync, readFileSync } from "node:fs";
import { request, type IncomingHttpHeaders } from "node:http";
import pino from "pino";
import { CryptoRandom, SystemClock } from "../../clock.js";
import { RecordIODecoder } from "../mesos/recordio.js";
import { decodeEventText, type MesosEvent } from "../mesos/json-codec-events.js";
import type { Json } from "../mesos/json-codec.js";
import { LocalAgent, type LocalAgentOptions } from "./agent.js";

export const TEST_MACHINE = { hostname: "testhost", cpus: 4, memMb: 4096, diskMb: 10_000, ports: { begin: 31000, end: 31099 } };

export function startTestAgent(stateDir: string, extra: Partial<LocalAgentOptions> = {}): Promise<LocalAgent> {
  return LocalAgent.start({
    stateDir,
    agents: 1,
    machine: TEST_MACHINE,
    taskPath: process.env["PATH"] ?? "/usr/bin:/bin",
    canSwitchUser: false,
    heartbeatIntervalS: 15,
    clock: new SystemClock(),
    random: new CryptoRandom(),
    log: pino({ level: "silent" }),
    ...extra,
  });
}

export interface RawAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** One HTTP request over the socket; `body` is sent as is (a string) or as JSON. */
export function raw(socketPath: string, method: string, path: string, headers: Record<string, string>, body?: string | Json): Promise<RawAnswer> {
  const payload = body === undefined ? undefined : Buffer.from(typeof body === "string" ? body : JSON.stringify(body));
  return new Promise((done, fail) => {
    const req = request({ agent: false, socketPath, method, path, host: "localhost", headers: { ...headers, ...(payload ? { "Content-Length": String(payload.length) } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => done({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
    });
    req.on("error", fail);
    req.end(payload);
  });
}

export const JSON_HEADERS = { "Content-Type": "application/json", Accept: "application/json" };

/** A scheduler call on the subscription's stream id. */
export function call(socketPath: string, streamId: string, body: Json): Promise<RawAnswer> {
  return raw(socketPath, "POST", "/api/v1/scheduler", { ...JSON_HEADERS, "Mesos-Stream-Id": streamId }, body);
}

export function operator(socketPath: string, type: string): Promise<Record<string, unknown>> {
  return raw(socketPath, "POST", "/api/v1", JSON_HEADERS, { type }).then((a) => JSON.parse(a.body) as Record<string, unknown>);
}

/** A SUBSCRIBE body for a new framework (or `id` again). */
export function subscribeBody(id?: string, extra: Record<string, Json> = {}): Json {
  return {
    ...(id !== undefined ? { framework_id: { value: id } } : {}),
    type: "SUBSCRIBE",
    subscribe: {
      framework_info: {
        ...(id !== undefined ? { id: { value: id } } : {}),
        user: "nobody",
        name: "test",
        roles: ["test-role"],
        principal: "test",
        failover_timeout: 3600,
        checkpoint: true,
        capabilities: [{ type: "MULTI_ROLE" }, { type: "RESERVATION_REFINEMENT" }],
        ...extra,
      },
      suppressed_roles: [],
    },
  };
}

/** An open subscription: its status, stream id, and the events decoded so far. */
export class Subscription {
  readonly events: MesosEvent[] = [];
  readonly texts: string[] = [];
  ended = false;
  private waiters: (() => void)[] = [];
  private destroy: () => void = () => undefined;

  private constructor(
    readonly status: number,
    readonly headers: IncomingHttpHeaders,
  ) {}

  get streamId(): string {
    return String(this.headers["mesos-stream-id"]);
  }

  static open(socketPath: string, body: Json, headers: Record<string, string> = JSON_HEADERS): Promise<Subscription> {
    const payload = Buffer.from(JSON.stringify(body));
    return new Promise((done, fail) => {
      const req = request({ agent: false, socketPath, method: "POST", path: "/api/v1/scheduler", host: "localhost", headers: { ...headers, "Content-Length": String(payload.length) } }, (res) => {
        const sub = new Subscription(res.statusCode ?? 0, res.headers);
        sub.destroy = () => res.destroy();
        const decoder = new RecordIODecoder();
        res.on("data", (chunk: Buffer) =>
          decoder.push(new Uint8Array(chunk), (record) => {
            const text = Buffer.from(record).toString("utf8");
            sub.texts.push(text);
            const e = decodeEventText(text, Date.now());
            if (!e.ok) throw e.error;
            sub.events.push(e.value);
            sub.wake();
          }),
        );
        res.on("close", () => {
          sub.ended = true;
          sub.wake();
        });
        done(sub);
      });
      req.on("error", fail);
      req.end(payload);
    });
  }

  /** Waits for the first event after `from` that `match` accepts. */
  async next<K extends MesosEvent["kind"]>(kind: K, match: (e: Extract<MesosEvent, { kind: K }>) => boolean = () => true, from = 0, timeoutMs = 5000): Promise<Extract<MesosEvent, { kind: K }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.slice(from).find((e): e is Extract<MesosEvent, { kind: K }> => e.kind === kind && match(e as Extract<MesosEvent, { kind: K }>));
      if (found) return found;
      if (this.ended) throw new Error(`stream ended without a ${kind} event: ${this.texts.join(" | ")}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${kind} event within ${timeoutMs} ms: ${this.texts.join(" | ")}`);
      await new Promise<void>((wake) => {
        const t = setTimeout(wake, left);
        this.waiters.push(() => {
          clearTimeout(t);
          wake();
        });
      });
    }
  }

  /** Waits until the agent ends the stream. */
  async closed(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ended) {
      if (Date.now() > deadline) throw new Error("stream still open");
      await new Promise<void>((wake) => {
        const t = setTimeout(wake, 50);
        this.waiters.push(() => {
          clearTimeout(t);
          wake();
        });
      });
    }
  }

  close(): void {
    this.destroy();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

/** Waits until `check` holds (real processes need real time), polling. */
export async function eventually<T>(check: () => T | undefined | Promise<T | undefined>, timeoutMs = 5000, what = "condition"): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Kills every task process (and interim supervisor) an agent knows: tests leave nothing behind. */
export function killTaskProcesses(agent: LocalAgent): void {
  for (const p of agent.processes() as { taskPid?: number; supervisorPid?: number }[]) {
    for (const pid of [p.taskPid, p.supervisorPid]) {
      if (pid === undefined) continue;
      for (const target of [-pid, pid]) {
        try {
          process.kill(target, "SIGKILL");
        } catch {
          // gone
        }
      }
    }
  }
}

/** After a test: closes its subscriptions, then kills its agents' task processes and closes the agents (both lists emptied). */
export async function closeAgents(agents: LocalAgent[], subs: Subscription[]): Promise<void> {
  for (const s of subs.splice(0)) s.close();
  for (const a of agents.splice(0)) {
    killTaskProcesses(a);
    await a.close();
  }
}

/** Pids of live `sleep <marker>` processes (the task itself, not a wrapper naming it). */
export function processesWith(marker: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const argv = cmd.split("\0").filter((a) => a !== "");
      const isTask = argv.length === 2 && argv[0]?.split("/").at(-1) === "sleep" && argv[1] === marker;
      if (isTask && stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z") out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/**
 * Acknowledges the task's updates in order (head-of-line delivery sends the next only then)
 * until one in `state` arrives, which is returned (acknowledged unless `ackLast` is false).
 * Runtime-agnostic: one runtime reports STARTING first, another RUNNING at once.
 */
export async function ackUntil(
  sub: Subscription,
  socketPath: string,
  frameworkId: string,
  taskId: string,
  state: string,
  ackLast = true,
): Promise<Extract<MesosEvent, { kind: "update" }>> {
  let from = 0;
  for (;;) {
    const u = await sub.next("update", (e) => e.status.taskId === taskId && e.status.uuid !== undefined, from);
    from = sub.events.indexOf(u) + 1;
    const last = u.status.state === state;
    if (!last || ackLast) {
      const ack = { framework_id: { value: frameworkId }, type: "ACKNOWLEDGE", acknowledge: { agent_id: { value: u.status.agentId ?? "" }, task_id: { value: taskId }, uuid: u.status.uuid ?? "" } };
      await call(socketPath, sub.streamId, ack);
    }
    if (last) return u;
  }
}
