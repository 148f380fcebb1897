/**
 * Pod control of a running service (dcos-commons §1.10, §3.6): restart (kill, relaunch in
 * place), replace (permanent recovery), pause and resume (relaunch with an idle command).
 */
import { SchedulerError } from "../domain/errors.js";
import type { PodAction } from "./admin-api.js";
import type { PodControlOutcome, PodState, PreparedControl } from "./managed-service.js";
import type { ServiceInternals } from "./service-internals.js";

export function preparePodControl(svc: ServiceInternals, pod: string, action: PodAction): PreparedControl<PodControlOutcome> {
  void svc;
  void pod;
  void action;
  throw new SchedulerError("unimplemented", "pod control is not built yet");
}

/** The pod instances of the service (the spec's, and those stored tasks still hold). */
export function podStates(svc: ServiceInternals): PodState[] {
  void svc;
  return [];
}

/** After load (recovery) or build: the stored paused pods applied again. */
export function restorePausedPods(svc: ServiceInternals, stored: Uint8Array | undefined): void {
  void svc;
  void stored;
}
