/**
 * The regular expressions of LIKE and UNLIKE constraints. They come from users and are matched
 * against every offered agent inside the offer cycle, so a pattern whose backtracking explodes
 * would stall every service. Besides a length limit: a repeated group may hold no repetition or
 * alternation (`(a+)+`, `(a|aa)*`: exponential), backreferences are refused, at most
 * `maxRegexRepetitions` repetitions (`.*.*.*.*x` is polynomial of that degree) and at most
 * `maxRegexBranches` ways through the alternations (`(a|a)(a|a)…` doubles with each). A match
 * is then a few milliseconds at worst on a hostname-sized value, and each (pattern, value) is
 * matched once: agents' values repeat from cycle to cycle. Matching is on the whole value, as
 * the reference's `String.matches`.
 */
import { PLACEMENT_LIMITS } from "./placement.js";

interface Group {
  repeats: boolean;
  alternates: boolean;
  branches: number;
}

/** What bounds a pattern's backtracking. */
export const REGEX_LIMITS = {
  /** `*`, `+`, `{n,}` and `{n,m}` with m > 1, anywhere in the pattern. */
  maxRegexRepetitions: 3,
  /** The product over groups (and the whole pattern) of their alternatives. */
  maxRegexBranches: 16,
} as const;

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

interface Matcher {
  readonly re: RegExp;
  readonly results: Map<string, boolean>;
}

/** Bounds of the memo: patterns kept, and values kept per pattern (each is dropped whole when full). */
const MEMO_PATTERNS = 1024;
const MEMO_VALUES = 8192;
const matchers = new Map<string, Matcher>();

/** Whether the whole of `value` matches `pattern`. Call only with a pattern `regexProblem` accepted. */
export function matchesWhole(pattern: string, value: string): boolean {
  let m = matchers.get(pattern);
  if (!m) {
    if (matchers.size >= MEMO_PATTERNS) matchers.clear();
    m = { re: new RegExp(`^(?:${pattern})$`), results: new Map() };
    matchers.set(pattern, m);
  }
  let hit = m.results.get(value);
  if (hit === undefined) {
    if (m.results.size >= MEMO_VALUES) m.results.clear();
    hit = m.re.test(value);
    m.results.set(value, hit);
  }
  return hit;
}

const NESTED = "a repeated group may not contain a repetition or an alternation (exponential matching time); use a character class such as [ab]* instead";

function backtrackingProblem(p: string): string | undefined {
  const stack: Group[] = [{ repeats: false, alternates: false, branches: 1 }];
  let repetitions = 0;
  let ways = 1;
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
      stack.push({ repeats: false, alternates: false, branches: 1 });
    } else if (c === "|") {
      top.alternates = true;
      top.branches++;
    } else if (c === ")" && stack.length > 1) {
      stack.pop();
      ways *= top.branches;
      const q = quantifier(p, i + 1);
      if (q.repeats && (top.repeats || top.alternates)) return NESTED;
      if (q.repeats) repetitions++;
      const parent = stack[stack.length - 1]!;
      parent.repeats ||= top.repeats || q.repeats;
      i += q.length;
    } else {
      const q = quantifier(p, i);
      if (q.repeats) repetitions++;
      top.repeats ||= q.repeats;
      if (q.length > 0) i += q.length - 1;
    }
  }
  ways *= stack[0]!.branches;
  if (repetitions > REGEX_LIMITS.maxRegexRepetitions) {
    return `has ${repetitions} repetitions (*, +, {n,}), at most ${REGEX_LIMITS.maxRegexRepetitions} are allowed (REGEX_LIMITS.maxRegexRepetitions), so matching stays fast`;
  }
  if (ways > REGEX_LIMITS.maxRegexBranches) {
    return `has ${ways} ways through its alternatives, at most ${REGEX_LIMITS.maxRegexBranches} are allowed (REGEX_LIMITS.maxRegexBranches), so matching stays fast`;
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
