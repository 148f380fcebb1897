/**
 * corral.v1.MultiServiceAdmin over an AdminApi. Handlers only translate: request message → API
 * call → view → response message. Every RPC gets a request id (incoming `x-request-id`, or a
 * fresh UUID) that is bound to its logger, echoed in the response headers, and named in INTERNAL
 * errors; every RPC logs exactly one line with method, status code and duration.
 */
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { performance } from "node:perf_hooks";
import * as grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  PutOutcome,
  SchedulerState,
  ServiceState,
  Status,
  Strategy,
  TaskLogFile,
  UninstallEventKind,
  WatchUninstallResponseSchema,
} from "../../../gen/corral/v1/admin_pb.js";
import type {
  MultiServiceAdmin,
  PlanSchema,
  PutServiceRequest,
  PutServiceResponseSchema,
  ServiceChangeSchema,
  ServiceSchema,
  TaskLogRequest,
  TaskLogResponseSchema,
  TaskSchema,
  UninstallEventSchema,
  WatchUninstallResponse,
} from "../../../gen/corral/v1/admin_pb.js";
import { SchedulerError } from "../../domain/errors.js";
import type { StrategyName } from "../../domain/spec/types.js";
import type {
  AdminApi,
  PlanView,
  PutServiceInput,
  PutServiceResult,
  ServiceChangeView,
  ServiceView,
  TaskLogChunk,
  TaskLogFile as TaskLogFileName,
  TaskLogInput,
  TaskView,
  UninstallEventView,
} from "../../engine/admin-api.js";
import type { Logger } from "../../engine/ports.js";
import { parsedRequest } from "./service-definition.js";
import type { ServiceImpl } from "./service-definition.js";
import { REQUEST_ID_METADATA_KEY, toServiceError } from "./status.js";

/** The MultiServiceAdmin handler map; register it with `addService(server, MultiServiceAdmin, …)`. */
export function createAdminHandlers(
  api: AdminApi,
  logger: Logger,
): ServiceImpl<typeof MultiServiceAdmin> {
  return {
    putService: unary("PutService", logger, async (req) => toPutResponse(await api.putService(toPutInput(req)))),
    uninstallService: unary("UninstallService", logger, async (req) => ({
      service: toServiceMessage(await api.uninstallService(req.name)),
    })),
    watchUninstall: serverStream("WatchUninstall", logger, (req, signal) =>
      mapStream(api.watchUninstall(req.names, req.after, signal), toWatchResponse),
    ),
    listServices: unary("ListServices", logger, () => ({
      services: api.listServices().map(toServiceMessage),
    })),
    getService: unary("GetService", logger, (req) => ({
      service: toServiceMessage(api.getService(req.name)),
    })),
    getPlan: unary("GetPlan", logger, (req) => ({
      plan: toPlanMessage(api.getPlan(req.name, req.plan)),
    })),
    getScheduler: unary("GetScheduler", logger, () => {
      const s = api.getScheduler();
      return { state: SchedulerState[s.state], services: s.services, uninstalling: s.uninstalling, lastUninstallEvent: s.lastUninstallEvent };
    }),
    listTasks: unary("ListTasks", logger, async (req) => {
      if (!api.listTasks) throw new SchedulerError("unimplemented", "this scheduler does not list tasks");
      return { tasks: (await api.listTasks(req.name)).map(toTaskMessage) };
    }),
    taskLog: serverStream("TaskLog", logger, (req, signal) => {
      if (!api.taskLog) throw new SchedulerError("unimplemented", "this scheduler does not serve task logs");
      return mapStream(api.taskLog(toTaskLogInput(req), signal), toTaskLogResponse);
    }),
  };
}

// ---------------------------------------------------------------------------------------------
// Views → messages. Enum names of the views equal the proto enum names without their prefix,
// so indexing the generated enum is total and checked by tsc.

const STRATEGY: { readonly [S in StrategyName]: Strategy } = {
  serial: Strategy.SERIAL,
  parallel: Strategy.PARALLEL,
  canary: Strategy.CANARY,
  "serial-canary": Strategy.SERIAL_CANARY,
  "parallel-canary": Strategy.PARALLEL_CANARY,
  dependency: Strategy.DEPENDENCY,
};

export function toServiceMessage(view: ServiceView): MessageInitShape<typeof ServiceSchema> {
  return {
    name: view.name,
    state: ServiceState[view.state],
    configId: view.configId,
    generation: BigInt(view.generation),
    plans: view.plans.map((p) => ({
      name: p.name,
      status: Status[p.status],
      stepsComplete: p.stepsComplete,
      stepsTotal: p.stepsTotal,
    })),
    error: view.error ?? "",
    createdTime: timestampFromMs(view.createdMs),
    updatedTime: timestampFromMs(view.updatedMs),
    removalId: view.removalId ?? 0n,
  };
}

/** `expected_generation` keeps its presence: unset is no check, 0 is "must not exist yet". */
function toPutInput(req: PutServiceRequest): PutServiceInput {
  const expected = req.expectedGeneration;
  if (expected !== undefined && expected > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw SchedulerError.invalid([{ field: "expected_generation", reason: `must be at most ${Number.MAX_SAFE_INTEGER} (got ${expected})` }]);
  }
  return {
    name: req.name,
    spec: req.spec,
    parameters: { ...req.parameters },
    ...(expected === undefined ? {} : { expectedGeneration: Number(expected) }),
    ...(req.dryRun ? { dryRun: true } : {}),
  };
}

function toPutResponse(result: PutServiceResult): MessageInitShape<typeof PutServiceResponseSchema> {
  return {
    service: toServiceMessage(result.service),
    outcome: PutOutcome[result.outcome],
    warnings: result.warnings.map((w) => ({ field: w.field, message: w.message })),
    ...(result.change === undefined ? {} : { change: toChangeMessage(result.change) }),
    dryRun: result.dryRun === true,
  };
}

function toChangeMessage(view: ServiceChangeView): MessageInitShape<typeof ServiceChangeSchema> {
  return {
    relaunched: [...view.relaunched],
    added: [...view.added],
    decommissioned: [...view.decommissioned],
    ...(view.plan === undefined ? {} : { plan: toPlanMessage(view.plan) }),
    violations: view.violations.map((v) => ({ field: v.field, reason: v.reason })),
  };
}

export function toPlanMessage(view: PlanView): MessageInitShape<typeof PlanSchema> {
  return {
    name: view.name,
    status: Status[view.status],
    strategy: STRATEGY[view.strategy],
    errors: [...view.errors],
    phases: view.phases.map((phase) => ({
      id: phase.id,
      name: phase.name,
      status: Status[phase.status],
      strategy: STRATEGY[phase.strategy],
      steps: phase.steps.map((step) => ({
        id: step.id,
        name: step.name,
        status: Status[step.status],
        message: step.message,
        taskIds: [...step.taskIds],
      })),
    })),
  };
}

export function toEventMessage(view: UninstallEventView): MessageInitShape<typeof UninstallEventSchema> {
  return {
    sequence: view.sequence,
    name: view.name,
    kind: UninstallEventKind[view.kind],
    time: timestampFromMs(view.timeMs),
    stepsComplete: view.stepsComplete,
    stepsTotal: view.stepsTotal,
    leftovers: [...view.leftovers],
    message: view.message,
  };
}

export function toTaskMessage(view: TaskView): MessageInitShape<typeof TaskSchema> {
  return {
    id: view.id,
    name: view.name,
    podType: view.podType,
    podIndex: view.podIndex,
    state: view.state,
    pid: view.pid,
    agentId: view.agentId,
    sandbox: view.sandbox,
    message: view.message,
    ...(view.updatedMs === undefined ? {} : { updatedTime: timestampFromMs(view.updatedMs) }),
  };
}

const TASK_LOG_FILES: ReadonlyMap<number, TaskLogFileName> = new Map([
  [TaskLogFile.UNSPECIFIED, "STDOUT"],
  [TaskLogFile.STDOUT, "STDOUT"],
  [TaskLogFile.STDERR, "STDERR"],
]);

/** An open enum: a number the proto does not name is refused here, naming the field. */
function toTaskLogInput(req: TaskLogRequest): TaskLogInput {
  const file = TASK_LOG_FILES.get(req.file);
  if (file === undefined) {
    throw SchedulerError.invalid([{ field: "file", reason: `unknown value ${req.file}: TASK_LOG_FILE_STDOUT or TASK_LOG_FILE_STDERR` }]);
  }
  return { name: req.name, task: req.task, file, offset: req.offset, tailLines: req.tailLines, follow: req.follow };
}

function toTaskLogResponse(chunk: TaskLogChunk): MessageInitShape<typeof TaskLogResponseSchema> {
  return { data: chunk.data, offset: BigInt(chunk.offset), taskId: chunk.taskId };
}

/**
 * One response message per event, shared by every watcher that streams it: with 1,000 watchers
 * the message is built once, not 1,000 times (the serializer passes a built message through),
 * and frozen, so the serializer encodes it once too. Events are immutable and shared by the
 * log, so a WeakMap keyed by them lets go with them.
 */
const watchResponses = new WeakMap<UninstallEventView, WatchUninstallResponse>();

function toWatchResponse(view: UninstallEventView): WatchUninstallResponse {
  let response = watchResponses.get(view);
  if (response === undefined) {
    response = deepFreeze(create(WatchUninstallResponseSchema, { event: { ...toEventMessage(view), removalId: view.removalId ?? 0n } }));
    watchResponses.set(view, response);
  }
  return response;
}

/** Freezes a built message with every message and list in it. */
function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** `source` with `f` applied to each value; no async generator in between (one less hop per message). */
function mapStream<T, R>(source: AsyncIterable<T>, f: (value: T) => R): AsyncIterable<R> {
  return {
    [Symbol.asyncIterator]: () => {
      const it = source[Symbol.asyncIterator]();
      return {
        next: async () => {
          const r = await it.next();
          return r.done === true ? { done: true, value: undefined } : { done: false, value: f(r.value) };
        },
        return: async () => {
          await it.return?.();
          return { done: true, value: undefined };
        },
      };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Call plumbing: request id, one log line per RPC, error mapping through status.ts.

interface Rpc {
  readonly requestId: string;
  readonly log: Logger;
  finish(code: grpc.status): void;
}

type ServerCall = Pick<grpc.ServerUnaryCall<unknown, unknown>, "metadata" | "sendMetadata">;

function startRpc(method: string, call: ServerCall, base: Logger): Rpc {
  const requestId = requestIdOf(call.metadata);
  const log = base.child({ requestId });
  const started = performance.now();
  const headers = new grpc.Metadata();
  headers.set(REQUEST_ID_METADATA_KEY, requestId);
  call.sendMetadata(headers);
  return {
    requestId,
    log,
    finish(code) {
      const durationMs = Math.round((performance.now() - started) * 1000) / 1000;
      log.info({ method, code: grpc.status[code], durationMs }, "rpc");
    },
  };
}

/** A caller-supplied id is kept when it is 1–128 printable ASCII characters. */
function requestIdOf(metadata: grpc.Metadata): string {
  const given = metadata.get(REQUEST_ID_METADATA_KEY)[0];
  return typeof given === "string" && /^[\x21-\x7e]{1,128}$/.test(given) ? given : randomUUID();
}

function unary<Req, Res>(
  method: string,
  base: Logger,
  handle: (request: Req) => Promise<Res> | Res,
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const rpc = startRpc(method, call, base);
    void (async () => {
      try {
        const response = await handle(parsedRequest(call.request));
        rpc.finish(call.cancelled ? grpc.status.CANCELLED : grpc.status.OK);
        callback(null, response);
      } catch (err) {
        const error = toServiceError(err, rpc.log, rpc.requestId);
        rpc.finish(error.code);
        callback(error);
      }
    })();
  };
}

/**
 * A server stream fed by an async iterable. `signal` aborts when the call is cancelled (client
 * cancel, deadline, server shutdown) or closes. Flow control: when `call.write()` returns false
 * (grpc-js holds 16 messages the HTTP/2 stream has not taken, i.e. the client reads slower than
 * we write), the next message is pulled only after 'drain' or once the call is over. A slow
 * client thus leaves its events in the producer (the uninstall event log's bounded watcher,
 * which fails with RESOURCE_EXHAUSTED), never in unbounded grpc-js buffers.
 */
function serverStream<Req, Res>(
  method: string,
  base: Logger,
  produce: (request: Req, signal: AbortSignal) => AsyncIterable<Res>,
): grpc.handleServerStreamingCall<Req, Res> {
  return (call) => {
    const rpc = startRpc(method, call, base);
    const abort = new AbortController();
    let over = false; // abort.signal.aborted, without the getter on the per-message path
    const onCancelled = (): void => {
      over = true;
      abort.abort();
    };
    call.once("cancelled", onCancelled);
    call.once("close", onCancelled);
    if (call.cancelled) onCancelled();
    void (async () => {
      try {
        for await (const message of produce(parsedRequest(call.request), abort.signal)) {
          if (over) break;
          if (!call.write(message)) await once(call, "drain", { signal: abort.signal });
        }
        if (abort.signal.aborted) return rpc.finish(grpc.status.CANCELLED);
        call.end();
        rpc.finish(grpc.status.OK);
      } catch (err) {
        if (abort.signal.aborted) return rpc.finish(grpc.status.CANCELLED);
        const error = toServiceError(err, rpc.log, rpc.requestId);
        rpc.finish(error.code);
        call.emit("error", error);
      } finally {
        call.off("cancelled", onCancelled);
        call.off("close", onCancelled);
      }
    })();
  };
}
