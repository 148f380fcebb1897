/**
 * Status of a step, phase or plan (dcos-commons §1.12). WAITING and IN_PROGRESS are only
 * computed for phases/plans and for interrupted steps; steps themselves move through
 * PENDING → PREPARED → STARTING → STARTED → COMPLETE, with DELAYED and ERROR on the side.
 */
export type Status =
  | "ERROR"
  | "WAITING"
  | "PENDING"
  | "PREPARED"
  | "STARTING"
  | "STARTED"
  | "COMPLETE"
  | "IN_PROGRESS"
  | "DELAYED";
