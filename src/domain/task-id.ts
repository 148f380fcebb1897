/**
 * Task and executor ID grammar (dcos-commons §2.1):
 *   TaskID     = <sanitized service>__<pod>-<index>-<task>__<uuid>
 *   ExecutorID = <sanitized service>__<pod>__<uuid>
 * Parsing goes right to left on "__" so pre-0.50 IDs (`name__uuid`) and IDs with extra leading
 * segments still parse.
 */
import { SchedulerError } from "./errors.js";

const SEP = "__";

/** `hello-0-server`: the stable name of a task instance across relaunches. */
export function taskInstanceName(podType: string, index: number, taskName: string): string {
  return `${podType}-${index}-${taskName}`;
}

/** `hello-0:[server, other]`, the reference's step name (Java list rendering). */
export function stepName(podType: string, index: number, taskNames: readonly string[]): string {
  return `${podType}-${index}:[${taskNames.join(", ")}]`;
}

function rejectSeparator(what: string, value: string): void {
  if (value.includes(SEP)) {
    throw new SchedulerError("invalid_argument", `${what} '${value}' must not contain '${SEP}'`);
  }
}

/**
 * Concatenation builds a rope (V8 cons string) that retains its parts; IDs live as long as
 * their task, so flatten them once (converting to a number forces a flat representation).
 */
function flat(s: string): string {
  void Number(s);
  return s;
}

export function makeTaskId(sanitizedService: string, instanceName: string, uuid: string): string {
  rejectSeparator("service name", sanitizedService);
  rejectSeparator("task name", instanceName);
  return flat(`${sanitizedService}${SEP}${instanceName}${SEP}${uuid}`);
}

export function makeExecutorId(sanitizedService: string, podType: string, uuid: string): string {
  rejectSeparator("service name", sanitizedService);
  rejectSeparator("pod type", podType);
  return flat(`${sanitizedService}${SEP}${podType}${SEP}${uuid}`);
}

export interface ParsedTaskId {
  /** Sanitized service name; undefined for legacy `name__uuid` IDs. */
  readonly service: string | undefined;
  /** Task instance name, e.g. `hello-0-server`. */
  readonly taskName: string;
}

/** Throws invalid_argument when the ID has no `__` at all. */
export function parseTaskId(taskId: string): ParsedTaskId {
  const last = taskId.lastIndexOf(SEP);
  if (last < 0) {
    throw new SchedulerError("invalid_argument", `malformed task ID '${taskId}': no '${SEP}'`);
  }
  const head = taskId.slice(0, last);
  const mid = head.lastIndexOf(SEP);
  if (mid < 0) return { service: undefined, taskName: head };
  const rest = head.slice(0, mid);
  const prev = rest.lastIndexOf(SEP);
  return {
    service: prev < 0 ? rest : rest.slice(prev + SEP.length),
    taskName: head.slice(mid + SEP.length),
  };
}

/** Same as parseTaskId but answers undefined for a malformed ID (routing must not throw). */
export function tryParseTaskId(taskId: string): ParsedTaskId | undefined {
  try {
    return parseTaskId(taskId);
  } catch {
    return undefined;
  }
}
