/**
 * In-process replicas for the client tests: the real AdminServer (the gRPC edge, status mapping,
 * `corral-leader` trailer) over stub AdminApis that play a leader (answers, records calls, serves
 * an event log) or a standby (refuses every call with SchedulerError "unavailable" naming the
 * leader, as the replicated scheduler does). A replica's role can change while it runs.
 */
import { createServer } from "node:net";
import type { AddressInfo, Socket } from "node:net";
import { pino } from "pino";
import { AdminServer } from "../../src/adapters/grpc/server.js";
import { SchedulerError } from "../../src/domain/errors.js";
import type { AdminApi, PlanEventView, PlanView, ServiceView, UninstallEventView } from "../../src/engine/admin-api.js";

/** What the replica does: lead, stand by naming a leader (or none known), or refuse like a scheduler still starting. */
export type Role = { readonly kind: "leader" } | { readonly kind: "standby"; readonly leader?: string } | { readonly kind: "starting" };

export interface Replica {
  readonly address: string;
  role: Role;
  /** Method names of the calls that reached the leader role, in order, with their arguments. */
  readonly calls: { readonly method: string; readonly args: readonly unknown[] }[];
  /** Every call that reached this replica, whatever its role. */
  readonly received: string[];
  stop(): Promise<void>;
}

/** The events every replica serves (the shared store's log); a watcher waits at its end for more. */
export class EventLog<E extends { readonly sequence: bigint }> {
  readonly events: E[] = [];
  readonly #waiters = new Set<() => void>();
  add(event: E): void {
    this.events.push(event);
    for (const wake of this.#waiters) wake();
  }
  /** Events after `after`; a replica fails the watch (its role changed) through `check`, between events. */
  async *after(after: bigint, signal: AbortSignal, check: () => void, endAt?: bigint): AsyncGenerator<E> {
    let next = this.events.findIndex((e) => e.sequence > after);
    if (next === -1) next = this.events.length;
    for (;;) {
      check();
      if (signal.aborted) return;
      const event = this.events[next];
      if (event !== undefined) {
        next++;
        yield event;
        if (endAt !== undefined && event.sequence >= endAt) return;
        continue;
      }
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          this.#waiters.delete(wake);
          signal.removeEventListener("abort", wake);
          resolve();
        };
        this.#waiters.add(wake);
        signal.addEventListener("abort", wake, { once: true });
      });
    }
  }
  /** Wakes every watcher (to see a changed role). */
  poke(): void {
    for (const wake of [...this.#waiters]) wake();
  }
}

export const service = (name: string): ServiceView => ({ name, state: "RUNNING", configId: "c1", generation: 1, plans: [], createdMs: 0, updatedMs: 0 });

export const uninstallEvent = (sequence: number, name = "hello", kind: UninstallEventView["kind"] = "PROGRESS"): UninstallEventView => ({
  sequence: BigInt(sequence),
  removalId: 1n,
  name,
  kind,
  timeMs: 0,
  stepsComplete: sequence,
  stepsTotal: 10,
  leftovers: [],
  message: `step ${sequence}`,
});

export const planEvent = (sequence: number, name = "hello"): PlanEventView => ({
  sequence: BigInt(sequence),
  name,
  generation: 1,
  plan: "deploy",
  phase: "hello",
  step: `hello-${sequence}`,
  stepId: `s${sequence}`,
  status: "STARTING",
  message: "",
  taskIds: [],
  timeMs: 0,
  planStatus: "IN_PROGRESS",
});

export interface ReplicaOptions {
  readonly role: Role;
  readonly uninstallEvents?: EventLog<UninstallEventView>;
  readonly planEvents?: EventLog<PlanEventView>;
  /** A named WatchUninstall ends once it told this sequence (a removal's end). */
  readonly uninstallEndsAt?: bigint;
  /** Listen on this port (to come back on an address after `stop`). */
  readonly port?: number;
  /** What GetPlan answers (the plan of the shared store); default: an empty COMPLETE plan. */
  readonly plan?: (name: string, plan: string) => PlanView;
}

export async function startReplica(options: ReplicaOptions): Promise<Replica> {
  const calls: Replica["calls"][number][] = [];
  const received: string[] = [];
  const uninstallLog = options.uninstallEvents ?? new EventLog<UninstallEventView>();
  const planLog = options.planEvents ?? new EventLog<PlanEventView>();
  const replica: { -readonly [K in keyof Replica]: Replica[K] } = { address: "", role: options.role, calls, received, stop: async () => undefined };
  /** Throws as a non-leader does; records the call when leading. */
  const lead = (method: string, ...args: unknown[]): void => {
    received.push(method);
    const { role } = replica;
    if (role.kind === "standby") {
      const where = role.leader === undefined ? "no leader is known yet" : `the leader is at ${role.leader}`;
      throw new SchedulerError("unavailable", `this scheduler is a standby; ${where}`, role.leader === undefined ? {} : { leader: role.leader });
    }
    if (role.kind === "starting") throw new SchedulerError("unavailable", "the scheduler is starting; try again in a moment");
    calls.push({ method, args });
  };
  /** Between events: a leader that stepped down ends its watches UNAVAILABLE. */
  const stillLeads = (): void => {
    if (replica.role.kind !== "leader") throw new SchedulerError("unavailable", "this scheduler stepped down; watch again after the last sequence seen at the leader");
  };
  const api: AdminApi = {
    putService: async (input) => {
      lead("putService", input);
      return { service: service(input.name), outcome: "CREATED", warnings: [] };
    },
    uninstallService: async (name) => {
      lead("uninstallService", name);
      return { ...service(name), state: "UNINSTALLING" };
    },
    watchUninstall: (names, after, signal) => {
      lead("watchUninstall", names, after);
      if (names.some((n) => !/^[a-z0-9/-]+$/.test(n))) throw new SchedulerError("invalid_argument", "names: not a service name");
      return uninstallLog.after(after, signal, stillLeads, names.length > 0 ? options.uninstallEndsAt : undefined);
    },
    listServices: () => {
      lead("listServices");
      return [service("hello")];
    },
    getService: (name) => {
      lead("getService", name);
      return service(name);
    },
    getPlan: (name, plan) => {
      lead("getPlan", name, plan);
      return options.plan?.(name, plan) ?? { name: plan || "deploy", status: "COMPLETE", strategy: "serial", phases: [], errors: [] };
    },
    getScheduler: () => {
      lead("getScheduler");
      return { state: "RUNNING", serviceMode: "dynamic", schemaVersion: 2, services: 1, uninstalling: 0, lastUninstallEvent: 0n };
    },
    controlPod: async (input) => {
      lead("controlPod", input);
      return { pod: { name: input.pod, podType: "hello", podIndex: 0, tasks: [], reservations: [], paused: false, permanentlyFailed: false, agentId: "", hostname: "" }, killed: [], changed: true };
    },
    watchPlans: (names, after, signal) => {
      lead("watchPlans", names, after);
      return planLog.after(after, signal, stillLeads);
    },
  };
  const server = new AdminServer({ api, logger: pino({ level: "silent" }) });
  const { port } = await server.listen(`127.0.0.1:${options.port ?? 0}`);
  replica.address = `127.0.0.1:${port}`;
  replica.stop = () => server.stop(0);
  return replica;
}

/** An address nothing listens on: connections to it are refused. */
export async function deadAddress(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `127.0.0.1:${port}`;
}

/** An address that accepts TCP connections and never answers on them (a frozen process). */
export async function frozenAddress(): Promise<{ readonly address: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
