/**
 * The regular expressions of LIKE and UNLIKE constraints. They come from users and are matched
 * against every offered agent inside the offer cycle, so a pattern that backtracks
 * exponentially would stall every service: besides a length limit, a repeated group may hold no
 * repetition or alternation (`(a+)+`, `(a|aa)*`) and backreferences are refused. Matching is on
 * the whole value, as the reference's `String.matches`.
 */
import { PLACEMENT_LIMITS } from "./placement.js";

interface Group {
  repeats: boolean;
  alternates: boolean;
}

/** Why `pattern` may not be used, or undefined when it may. */
export function regexProblem(pattern: string): string | undefined {
  if (pattern.length > PLACEMENT_LIMITS.maxValueChars) {
    return `regular expression is longer than ${PLACEMENT_LIMITS.maxValueChars} characters (PLACEMENT_LIMITS.maxValueChars)`;
  }
  try {
    new RegExp(pattern);
  } catch (err) {
    return `is not a valid regular expression (${err instanceof Error ? err.message : String(err)})`;
  }
  return backtrackingProblem(pattern);
}

/** `pattern` anchored to the whole value. Call only on a pattern `regexProblem` accepted. */
export function wholeValueRegex(pattern: string): RegExp {
  return new RegExp(`^(?:${pattern})$`);
}

const NESTED = "a repeated group may not contain a repetition or an alternation (exponential matching time); use a character class such as [ab]* instead";

function backtrackingProblem(p: string): string | undefined {
  const stack: Group[] = [{ repeats: false, alternates: false }];
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    const top = stack[stack.length - 1]!;
    if (c === "\\") {
      const next = p[i + 1] ?? "";
      if (/[1-9]/.test(next) || (next === "k" && p[i + 2] === "<")) return "may not use backreferences";
      i++;
    } else if (c === "[") {
      i = classEnd(p, i);
    } else if (c === "(") {
      stack.push({ repeats: false, alternates: false });
    } else if (c === "|") {
      top.alternates = true;
    } else if (c === ")" && stack.length > 1) {
      stack.pop();
      const q = quantifier(p, i + 1);
      if (q.repeats && (top.repeats || top.alternates)) return NESTED;
      const parent = stack[stack.length - 1]!;
      parent.repeats ||= top.repeats || q.repeats;
      i += q.length;
    } else {
      const q = quantifier(p, i);
      top.repeats ||= q.repeats;
      if (q.length > 0) i += q.length - 1;
    }
  }
  return undefined;
}

/** The index of the `]` closing the class opened at `start`. */
function classEnd(p: string, start: number): number {
  let i = start + 1;
  if (p[i] === "^") i++;
  for (; i < p.length; i++) {
    if (p[i] === "\\") i++;
    else if (p[i] === "]") return i;
  }
  return p.length;
}

/** The quantifier at `at` (none: length 0): its length and whether it repeats more than once. */
function quantifier(p: string, at: number): { length: number; repeats: boolean } {
  const c = p[at];
  let length = 0;
  let repeats = false;
  if (c === "*" || c === "+") {
    length = 1;
    repeats = true;
  } else if (c === "?") {
    length = 1;
  } else if (c === "{") {
    const m = /^\{(\d+)(,(\d*))?\}/.exec(p.slice(at));
    if (!m) return { length: 0, repeats: false };
    length = m[0].length;
    const max = m[2] === undefined ? Number(m[1]) : m[3] === "" ? Infinity : Number(m[3]);
    repeats = max > 1;
  }
  if (length > 0 && p[at + length] === "?") length++;
  return { length, repeats };
}
