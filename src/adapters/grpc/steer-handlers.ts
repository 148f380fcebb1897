/**
 * The RPCs that steer running services — plans, pods, plan events — over an AdminApi. Like the
 * other handlers they only translate; an AdminApi without the method answers UNIMPLEMENTED.
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { PlanAction, PodAction, Status, WatchPlansResponseSchema } from "../../../gen/corral/v1/admin_pb.js";
import type {
  ControlPlanRequest,
  ControlPodRequest,
  PodSchema,
  WatchPlansResponse,
} from "../../../gen/corral/v1/admin_pb.js";
import { SchedulerError } from "../../domain/errors.js";
import type {
  AdminApi,
  PlanAction as PlanActionName,
  PlanControlInput,
  PlanEventView,
  PodAction as PodActionName,
  PodControlInput,
  PodView,
} from "../../engine/admin-api.js";
import type { RpcPlumbing } from "./rpc-calls.js";
import { mapStream, serverStream, unary } from "./rpc-calls.js";
import { deepFreeze, toPlanMessage, toTaskMessage } from "./view-messages.js";

function missing(what: string): never {
  throw new SchedulerError("unimplemented", `this scheduler does not ${what}`);
}

export function steerHandlers(api: AdminApi, rpc: RpcPlumbing) {
  return {
    listPlans: unary("ListPlans", rpc, (req: { name: string }) => {
      if (!api.listPlans) missing("list plans");
      return { plans: api.listPlans(req.name).map(toPlanMessage) };
    }),
    controlPlan: unary("ControlPlan", rpc, async (req: ControlPlanRequest) => {
      if (!api.controlPlan) missing("control plans");
      const r = await api.controlPlan(toPlanControl(req));
      return { plan: toPlanMessage(r.plan), changed: r.changed };
    }),
    listPods: unary("ListPods", rpc, async (req: { name: string }) => {
      if (!api.listPods) missing("list pods");
      return { pods: (await api.listPods(req.name)).map(toPodMessage) };
    }),
    controlPod: unary("ControlPod", rpc, async (req: ControlPodRequest) => {
      if (!api.controlPod) missing("control pods");
      const r = await api.controlPod(toPodControl(req));
      return { pod: toPodMessage(r.pod), killed: [...r.killed], changed: r.changed };
    }),
    watchPlans: serverStream("WatchPlans", rpc, (req: { names: string[]; after: bigint }, signal) => {
      if (!api.watchPlans) missing("stream plan events");
      return mapStream(api.watchPlans(req.names, req.after, signal), toWatchPlansResponse);
    }),
  };
}

const PLAN_ACTIONS: ReadonlyMap<number, PlanActionName> = new Map([
  [PlanAction.START, "START"],
  [PlanAction.STOP, "STOP"],
  [PlanAction.INTERRUPT, "INTERRUPT"],
  [PlanAction.CONTINUE, "CONTINUE"],
  [PlanAction.FORCE_COMPLETE, "FORCE_COMPLETE"],
  [PlanAction.RESTART, "RESTART"],
]);

const POD_ACTIONS: ReadonlyMap<number, PodActionName> = new Map([
  [PodAction.RESTART, "RESTART"],
  [PodAction.REPLACE, "REPLACE"],
  [PodAction.PAUSE, "PAUSE"],
  [PodAction.RESUME, "RESUME"],
]);

function actionOf<T>(actions: ReadonlyMap<number, T>, value: number, field: string): T {
  const action = actions.get(value);
  if (action === undefined) {
    const names = [...actions.values()].join(", ");
    throw SchedulerError.invalid([{ field, reason: value === 0 ? `is required: one of ${names}` : `${value} is not one of ${names}` }]);
  }
  return action;
}

function toPlanControl(req: ControlPlanRequest): PlanControlInput {
  return {
    name: req.name,
    plan: req.plan,
    action: actionOf(PLAN_ACTIONS, req.action, "action"),
    phase: req.phase,
    step: req.step,
    parameters: { ...req.parameters },
  };
}

function toPodControl(req: ControlPodRequest): PodControlInput {
  return { name: req.name, pod: req.pod, action: actionOf(POD_ACTIONS, req.action, "action") };
}

export function toPodMessage(view: PodView): MessageInitShape<typeof PodSchema> {
  return {
    name: view.name,
    podType: view.podType,
    podIndex: view.podIndex,
    tasks: view.tasks.map(toTaskMessage),
    reservations: view.reservations.map((r) => ({ ...r })),
    paused: view.paused,
    permanentlyFailed: view.permanentlyFailed,
    agentId: view.agentId,
    hostname: view.hostname,
  };
}

/** One frozen response per event, shared by every watcher (encoded once, as WatchUninstall's). */
const planResponses = new WeakMap<PlanEventView, WatchPlansResponse>();

function toWatchPlansResponse(view: PlanEventView): WatchPlansResponse {
  let response = planResponses.get(view);
  if (response === undefined) {
    response = deepFreeze(
      create(WatchPlansResponseSchema, {
        event: {
          sequence: view.sequence,
          name: view.name,
          generation: BigInt(view.generation),
          plan: view.plan,
          phase: view.phase,
          step: view.step,
          stepId: view.stepId,
          status: Status[view.status],
          message: view.message,
          taskIds: [...view.taskIds],
          time: timestampFromMs(view.timeMs),
          planStatus: Status[view.planStatus],
        },
      }),
    );
    planResponses.set(view, response);
  }
  return response;
}
