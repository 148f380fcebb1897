/**
 * Service names (dcos-commons §2.1, §2.3, §4.2): how a name is validated, how it appears in task
 * and executor IDs (sanitized), and how it names store nodes (escaped).
 */
import { SchedulerError, abbreviate } from "./errors.js";
import type { FieldViolation } from "./errors.js";

/** Longest name, slashes removed: it must fit one DNS label (§6 "Service name length"). */
export const MAX_SERVICE_NAME_CHARS = 63;

/** How much of an over-long name the segment checks look at. */
const MAX_NAME_HEAD_CHARS = 256;

const LABEL = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/** Why one folder segment is not a DNS label, or undefined when it is. */
function segmentProblem(segment: string): string | undefined {
  if (segment === "")
    return "must not contain an empty folder segment ('//', or a leading/trailing '/')";
  if (segment.includes(".")) return "must not contain '.' (sanitized IDs use '.' for '/')";
  if (/[A-Z]/.test(segment)) return "must be lowercase";
  if (!LABEL.test(segment)) {
    return (
      `segment '${abbreviate(segment)}' must use only a-z, 0-9 and '-', ` +
      "and start and end with a letter or digit"
    );
  }
  return undefined;
}

/** A loop, not `replaceAll`: a 1 MiB `a/a/a…` would build a 512 KiB string first (~30 ms). */
function countSlashes(name: string): number {
  let n = 0;
  for (let i = 0; i < name.length; i++) if (name.charCodeAt(i) === 0x2f) n++;
  return n;
}

/**
 * Checks a service name: lowercase DNS labels, optionally in `/`-separated folders (`team/db`).
 * @returns one violation per problem (field `name`); empty when the name is valid.
 */
export function validateServiceName(name: string): FieldViolation[] {
  if (name === "") return [{ field: "name", reason: "must not be empty" }];
  const reasons: string[] = [];
  // `__` separates task ID parts and escapes '/' in store nodes, so it must stay unambiguous.
  if (name.includes("__")) reasons.push("must not contain '__'");
  const length = name.length - countSlashes(name);
  if (length > MAX_SERVICE_NAME_CHARS) {
    reasons.push(
      `must be at most ${MAX_SERVICE_NAME_CHARS} characters without slashes (got ${length})`,
    );
  }
  // A valid name is at most 127 characters (63 + 64 slashes); past that, looking at the head is
  // enough to say what else is wrong, and a 1 MiB `a/a/a…` stays cheap.
  const segments = name.length > MAX_NAME_HEAD_CHARS ? name.slice(0, MAX_NAME_HEAD_CHARS).split("/").slice(0, -1) : name.split("/");
  for (const segment of segments) {
    const problem = segmentProblem(segment);
    if (problem !== undefined && !reasons.includes(problem)) reasons.push(problem);
  }
  return reasons.map((reason) => ({ field: "name", reason }));
}

/**
 * The form used inside task and executor IDs: all leading/trailing `/` stripped, then `/` → `.`.
 * `//path/to/service///` ⇒ `path.to.service`.
 */
export function sanitizeServiceName(name: string): string {
  return name.replace(/^\/+|\/+$/g, "").replaceAll("/", ".");
}

/**
 * The form used for store node names: one leading `/` dropped, then `/` → `__`
 * (`/path/to/svc` ⇒ `path__to__svc`).
 * @throws SchedulerError invalid_argument when the name contains `__` (it would be ambiguous).
 */
export function escapeServiceName(name: string): string {
  if (name.includes("__")) {
    throw SchedulerError.invalid([{ field: "name", reason: "must not contain '__'" }]);
  }
  return (name.startsWith("/") ? name.slice(1) : name).replaceAll("/", "__");
}
