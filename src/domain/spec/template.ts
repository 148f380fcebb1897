/**
 * Mustache rendering of a service template against its parameters (dcos-commons §4.1).
 * Unlike the reference, a variable that would render empty is an error: a silently blank
 * `cpus:` or `count:` is much harder to diagnose than a named missing parameter.
 *
 * Every construct is rendered or refused with a reason: variables (`{{x}}`, `{{{x}}}`, `{{&x}}`,
 * inserted verbatim), sections and inverted sections, comments and set-delimiters render;
 * partials, dotted names, empty tags and `{{.}}` outside a section are refused. Parameters are
 * strings, so lambdas cannot occur. Walks over the token tree are iterative and sections nest at
 * most `SPEC_LIMITS.maxTemplateSectionDepth`, so no template reaches the stack limit.
 */
import Mustache from "mustache";
import type { TemplateSpans } from "mustache";
import { SchedulerError, abbreviate } from "../errors.js";
import type { FieldViolation } from "../errors.js";
import { SPEC_LIMITS } from "./limits.js";

type View = Readonly<Record<string, string>>;
type Token = TemplateSpans[number];

const FIELD = "spec";

/** offset → 1-based line in `text`; the line starts are found once, on the first call. */
function lineFinder(text: string): (offset: number) => number {
  let starts: number[] | undefined;
  return (offset) => {
    if (starts === undefined) {
      starts = [0];
      for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) starts.push(i + 1);
    }
    let [lo, hi] = [0, starts.length - 1];
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
}

/** Same truthiness as mustache: unset and "" are falsy, any other string is truthy. */
function isSet(view: View, name: string): boolean {
  return Object.hasOwn(view, name) && view[name] !== "";
}

/** One level of the iterative walk: the tokens of a section (or the template) and the next index. */
interface Frame {
  readonly tokens: TemplateSpans;
  next: number;
  /** Inside a rendered `{{#x}}`, where `{{.}}` is x's (non-empty) value. */
  readonly dot: boolean;
}

/**
 * What rendering `tokens` against `view` needs but lacks: variables not set (in template order,
 * once each) and constructs that are refused. Only sections that will render are entered.
 */
function collectUnset(template: string, tokens: TemplateSpans, view: View): FieldViolation[] {
  const unset = new Set<string>();
  const problems: string[] = [];
  const lineOf = lineFinder(template);
  const stack: Frame[] = [{ tokens, next: 0, dot: false }];
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    const token = frame.tokens[frame.next++];
    if (token === undefined) {
      stack.pop();
      continue;
    }
    const [type, name, start] = token;
    const at = () => `line ${lineOf(start)}`;
    if (type !== "name" && type !== "&" && type !== "#" && type !== "^") {
      if (type === ">") problems.push(`partials are not supported ({{>${abbreviate(name)}}} at ${at()})`);
      continue;
    }
    if (name === "") {
      problems.push(`empty tag at ${at()}`);
      continue;
    }
    if (name === ".") {
      // `.` is the innermost section's value; the view itself is no string.
      if (!frame.dot) problems.push(`{{.}} outside a {{#section}} has no value (${at()})`);
      else if (type === "#" && Array.isArray(token[4])) stack.push({ tokens: token[4], next: 0, dot: true });
      continue;
    }
    if (name.includes(".")) {
      problems.push(`template variable ${abbreviate(name)}: dotted names are not supported`);
      continue;
    }
    if (type === "name" || type === "&") {
      if (!Object.hasOwn(view, name)) unset.add(name);
      continue;
    }
    // Only variables inside a section that will render are required.
    const renders = type === "#" ? isSet(view, name) : !isSet(view, name);
    const children = token[4];
    if (renders && Array.isArray(children))
      stack.push({ tokens: children, next: 0, dot: type === "#" || frame.dot });
  }
  return [
    ...problems.map((reason) => ({ field: FIELD, reason })),
    ...[...unset].map((name) => {
      const shown = abbreviate(name);
      return { field: `parameters.${shown}`, reason: `template variable ${shown} is not set` };
    }),
  ];
}

/** mustache's syntax errors end in "at <offset>" and may quote a section name: a line, bounded. */
function syntaxReason(template: string, message: string): string {
  const located = message
    .replace(/"([^]*)"/, (_, name: string) => `"${abbreviate(name)}"`)
    .replace(/ at (\d+)$/, (_, offset: string) => ` at line ${lineFinder(template)(Number(offset))}`);
  return `template syntax error: ${abbreviate(located, 200)}`;
}

/** Parses with a throwaway writer so user templates never accumulate in mustache's global cache. */
function parseTemplate(template: string): TemplateSpans {
  try {
    return new Mustache.Writer().parse(template) as TemplateSpans;
  } catch (err) {
    throw SchedulerError.invalid([{ field: FIELD, reason: syntaxReason(template, err instanceof Error ? err.message : String(err)) }]);
  }
}

/**
 * Checks the section depth and makes text tokens contiguous, in one iterative pass. mustache
 * builds each text token by appending single characters, a string V8 keeps as a deep chain that
 * every rendered text has to walk again to become contiguous (~10 µs for a 2 KB template).
 * @throws SchedulerError invalid_argument naming the line of the first section nested too deep.
 */
function prepare(template: string, tokens: TemplateSpans): void {
  const limit = SPEC_LIMITS.maxTemplateSectionDepth;
  const stack: Frame[] = [{ tokens, next: 0, dot: false }];
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    const token: Token | undefined = frame.tokens[frame.next++];
    if (token === undefined) {
      stack.pop();
      continue;
    }
    if (token[0] === "text") (token as unknown as string[])[1] = token[1].split("").join("");
    const children = token[4];
    if (!Array.isArray(children)) continue;
    if (stack.length > limit) {
      const line = lineFinder(template)(token[2]);
      throw SchedulerError.invalid([{ field: FIELD, reason: `sections nested deeper than ${limit} at line ${line} (SPEC_LIMITS.maxTemplateSectionDepth)` }]);
    }
    stack.push({ tokens: children, next: 0, dot: false });
  }
}

/**
 * Parsed templates by text, most recently used last. Every service of a fleet usually shares one
 * template, and a restart re-renders them all; mustache's own cache lives in a writer and is
 * unbounded, this one keeps at most TEMPLATE_CACHE_ENTRIES templates. Parsing is a pure function
 * of the text (default tags) and rendering never mutates the tokens, so a cached parse is the
 * parse. Refused templates are not cached: they throw again from `parseTemplate` or `prepare`.
 */
const TEMPLATE_CACHE_ENTRIES = 64;
/** And at most this many template characters in all (the tokens hold about as much again). */
const TEMPLATE_CACHE_CHARS = 2 * 1024 * 1024;
const parsedTemplates = new Map<string, TemplateSpans>();
let cachedChars = 0;

function cachedTemplate(template: string): TemplateSpans {
  const hit = parsedTemplates.get(template);
  if (hit !== undefined) {
    parsedTemplates.delete(template);
    parsedTemplates.set(template, hit);
    return hit;
  }
  const tokens = parseTemplate(template);
  prepare(template, tokens);
  if (template.length > TEMPLATE_CACHE_CHARS) return tokens;
  parsedTemplates.set(template, tokens);
  cachedChars += template.length;
  while (parsedTemplates.size > TEMPLATE_CACHE_ENTRIES || cachedChars > TEMPLATE_CACHE_CHARS) {
    const oldest = parsedTemplates.keys().next().value as string;
    parsedTemplates.delete(oldest);
    cachedChars -= oldest.length;
  }
  return tokens;
}

/**
 * Renders checked tokens: mustache's semantics for string values, without its recursion and
 * without its Context, whose lookup cache breaks on a parameter named `hasOwnProperty`.
 * `collectUnset` has refused everything but text, set variables, comments, set-delimiters and
 * sections; `.` is the innermost section's value. Values go in verbatim (no HTML escaping).
 * @throws SchedulerError invalid_argument (field `spec`) as soon as the output passes
 *   `SPEC_LIMITS.maxSpecChars`, the limit its YAML load would refuse it by anyway.
 */
function renderTokens(tokens: TemplateSpans, view: View): string {
  let out = "";
  const stack: { tokens: TemplateSpans; next: number; dot: string }[] = [{ tokens, next: 0, dot: "" }];
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    const token = frame.tokens[frame.next++];
    if (token === undefined) {
      stack.pop();
      continue;
    }
    const [type, name] = token;
    const value = name === "." ? frame.dot : Object.hasOwn(view, name) ? view[name]! : "";
    if (type === "text" || type === "name" || type === "&") {
      out += type === "text" ? name : value;
      // Checked as it grows: 100,000 tags of a 500 KB value would pass V8's string limit.
      if (out.length > SPEC_LIMITS.maxSpecChars) {
        const reason = `exceeds SPEC_LIMITS.maxSpecChars (at most ${SPEC_LIMITS.maxSpecChars}, got at least ${out.length})`;
        throw SchedulerError.invalid([{ field: FIELD, reason }]);
      }
    } else if ((type === "#" && value !== "") || (type === "^" && value === "")) {
      const children = token[4];
      if (Array.isArray(children)) stack.push({ tokens: children, next: 0, dot: type === "#" ? value : frame.dot });
    }
  }
  return out;
}

/**
 * Renders `template` with `params`.
 * Values are inserted verbatim: the output is YAML, not HTML, so mustache's default HTML
 * escaping would corrupt values such as `a&b` or placement JSON written as `{{X}}`.
 * @throws SchedulerError invalid_argument: field `spec` for a syntax error, a refused construct,
 *   sections nested too deep, an oversized template or output; one `parameters.X` violation per
 *   variable that is used but not set.
 */
export function renderTemplate(template: string, params: Readonly<Record<string, string>>): string {
  if (template.length > SPEC_LIMITS.maxTemplateChars) {
    const limit = SPEC_LIMITS.maxTemplateChars;
    throw SchedulerError.invalid([{ field: FIELD, reason: `template exceeds SPEC_LIMITS.maxTemplateChars (at most ${limit}, got ${template.length})` }]);
  }
  // Without an opening tag (set-delimiters start with one too) mustache returns the text as is.
  if (!template.includes("{{")) return template;
  // A prototype-free copy, so names like `constructor` are not found on Object.prototype.
  const view: View = Object.assign(Object.create(null) as Record<string, string>, params);
  const tokens = cachedTemplate(template);
  const violations = collectUnset(template, tokens, view);
  if (violations.length > 0) throw SchedulerError.invalid(violations);
  return renderTokens(tokens, view);
}
