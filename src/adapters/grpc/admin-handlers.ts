/**
 * corral.v1.MultiServiceAdmin over an AdminApi. Handlers only translate: request message → API
 * call → view → response message. Every RPC gets a request id (incoming `x-request-id`, or a
 * fresh UUID) that is bound to its logger, echoed in the response headers, and named in INTERNAL
 * errors; every RPC logs exactly one line with method, status code and duration.
 */
import { create } from "@bufbuild/protobuf";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  PutOutcome,
  SchedulerState,
  ServiceMode,
  ServiceState,
  Status,
  TaskLogFile,
  UninstallEventKind,
  WatchUninstallResponseSchema,
} from "../../../gen/corral/v1/admin_pb.js";
import type {
  MultiServiceAdmin,
  PutServiceRequest,
  PutServiceResponseSchema,
  ServiceChangeSchema,
  ServiceSchema,
  TaskLogRequest,
  TaskLogResponseSchema,
  UninstallEventSchema,
  WatchUninstallResponse,
} from "../../../gen/corral/v1/admin_pb.js";
import { SchedulerError } from "../../domain/errors.js";
import type {
  AdminApi,
  PutServiceInput,
  PutServiceResult,
  SecretsAccess,
  ServiceChangeView,
  ServiceMode as ServiceModeName,
  ServiceView,
  TaskLogChunk,
  TaskLogFile as TaskLogFileName,
  TaskLogInput,
  UninstallEventView,
} from "../../engine/admin-api.js";
import type { Logger } from "../../engine/ports.js";
import type { ServiceImpl } from "./service-definition.js";
import { endpointHandlers } from "./endpoint-handlers.js";
import { secretHandlers } from "./secret-handlers.js";
import { steerHandlers } from "./steer-handlers.js";
import type { CallObserver } from "./call-observer.js";
import { mapStream, serverStream, unary } from "./rpc-calls.js";
import type { RpcPlumbing } from "./rpc-calls.js";
import { deepFreeze, toPlanMessage, toTaskMessage } from "./view-messages.js";

/**
 * The MultiServiceAdmin handler map; register it with `addService(server, MultiServiceAdmin, …)`.
 * `secrets`: where the secret RPCs go (absent: they answer UNIMPLEMENTED).
 */
export function createAdminHandlers(
  api: AdminApi,
  logger: Logger,
  secrets?: SecretsAccess,
  observer?: CallObserver,
): ServiceImpl<typeof MultiServiceAdmin> {
  const rpc: RpcPlumbing = { log: logger, ...(observer ? { observer } : {}) };
  return {
    putService: unary("PutService", rpc, async (req) => toPutResponse(await api.putService(toPutInput(req)))),
    uninstallService: unary("UninstallService", rpc, async (req) => ({
      service: toServiceMessage(await api.uninstallService(req.name)),
    })),
    watchUninstall: serverStream("WatchUninstall", rpc, (req, signal) =>
      mapStream(api.watchUninstall(req.names, req.after, signal), toWatchResponse),
    ),
    listServices: unary("ListServices", rpc, () => ({
      services: api.listServices().map(toServiceMessage),
    })),
    getService: unary("GetService", rpc, (req) => ({
      service: toServiceMessage(api.getService(req.name)),
    })),
    getPlan: unary("GetPlan", rpc, (req) => ({
      plan: toPlanMessage(api.getPlan(req.name, req.plan)),
    })),
    getScheduler: unary("GetScheduler", rpc, () => {
      const s = api.getScheduler();
      return {
        state: SchedulerState[s.state],
        services: s.services,
        uninstalling: s.uninstalling,
        lastUninstallEvent: s.lastUninstallEvent,
        serviceMode: SERVICE_MODES[s.serviceMode],
        schemaVersion: s.schemaVersion,
      };
    }),
    listTasks: unary("ListTasks", rpc, async (req) => {
      if (!api.listTasks) throw new SchedulerError("unimplemented", "this scheduler does not list tasks");
      return { tasks: (await api.listTasks(req.name)).map(toTaskMessage) };
    }),
    taskLog: serverStream("TaskLog", rpc, (req, signal) => {
      if (!api.taskLog) throw new SchedulerError("unimplemented", "this scheduler does not serve task logs");
      return mapStream(api.taskLog(toTaskLogInput(req), signal), toTaskLogResponse);
    }),
    ...steerHandlers(api, rpc),
    ...secretHandlers(secrets, rpc),
    ...endpointHandlers(api, rpc),
  };
}

// ---------------------------------------------------------------------------------------------
// Views → messages. Enum names of the views equal the proto enum names without their prefix,
// so indexing the generated enum is total and checked by tsc.

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

const SERVICE_MODES: Readonly<Record<ServiceModeName, ServiceMode>> = {
  dynamic: ServiceMode.DYNAMIC,
  static: ServiceMode.STATIC,
  mono: ServiceMode.MONO,
};

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
