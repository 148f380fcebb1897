/**
 * Views → messages shared by the admin handlers: enum names of the views equal the proto enum
 * names without their prefix, so indexing the generated enum is total and checked by tsc.
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Status, Strategy } from "../../../gen/corral/v1/admin_pb.js";
import type { PlanSchema, TaskSchema } from "../../../gen/corral/v1/admin_pb.js";
import type { StrategyName } from "../../domain/spec/types.js";
import type { PlanView, TaskView } from "../../engine/admin-api.js";

export const STRATEGY: { readonly [S in StrategyName]: Strategy } = {
  serial: Strategy.SERIAL,
  parallel: Strategy.PARALLEL,
  canary: Strategy.CANARY,
  "serial-canary": Strategy.SERIAL_CANARY,
  "parallel-canary": Strategy.PARALLEL_CANARY,
  dependency: Strategy.DEPENDENCY,
};

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

/** Freezes a built message with every message and list in it. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
