/**
 * Mustache rendering of a service template against its parameters (dcos-commons §4.1).
 * Unlike the reference, a variable that would render empty is an error: a silently blank
 * `cpus:` or `count:` is much harder to diagnose than a named missing parameter.
 */
import Mustache from "mustache";
import type { TemplateSpans } from "mustache";
import { SchedulerError } from "../errors.js";
import type { FieldViolation } from "../errors.js";

type View = Readonly<Record<string, string>>;

/** Same truthiness as mustache: unset and "" are falsy, any other string is truthy. */
function isSet(view: View, name: string): boolean {
  return Object.hasOwn(view, name) && view[name] !== "";
}

/** Appends each variable the tokens would render but `view` lacks, in template order. */
function collectUnset(tokens: TemplateSpans, view: View, out: string[], problems: string[]): void {
  for (const token of tokens) {
    const [type, name] = token;
    if (type === "name" || type === "&") {
      // `{{.}}` is the current section value, always defined when reached.
      if (name === ".") continue;
      if (name.includes("."))
        problems.push(`template variable ${name}: dotted names are not supported`);
      else if (!Object.hasOwn(view, name) && !out.includes(name)) out.push(name);
    } else if (type === "#" || type === "^") {
      // Only variables inside a section that will render are required.
      const renders = type === "#" ? isSet(view, name) : !isSet(view, name);
      const children = token[4];
      if (renders && Array.isArray(children)) collectUnset(children, view, out, problems);
    } else if (type === ">") {
      problems.push(`partials are not supported ({{>${name}}})`);
    }
  }
}

/** Parses with a throwaway writer so user templates never accumulate in mustache's global cache. */
function parseTemplate(template: string): TemplateSpans {
  try {
    return new Mustache.Writer().parse(template) as TemplateSpans;
  } catch (err) {
    const reason = `template syntax error: ${err instanceof Error ? err.message : String(err)}`;
    throw new SchedulerError("invalid_argument", `spec: ${reason}`, {
      cause: err,
      violations: [{ field: "spec", reason }],
    });
  }
}

/**
 * Parsed templates by text, most recently used last. Every service of a fleet usually shares one
 * template, and a restart re-renders them all; mustache's own cache lives in a writer and is
 * unbounded, this one keeps at most TEMPLATE_CACHE_ENTRIES templates. Parsing is a pure function
 * of the text (default tags) and rendering never mutates the tokens, so a cached parse is the
 * parse. Syntax errors are not cached: they throw again from `parseTemplate`.
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
  flattenText(tokens);
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
 * mustache builds each text token by appending single characters, a string V8 keeps as a deep
 * chain that every rendered text has to walk again to become contiguous (~10 µs for a 2 KB
 * template). Cached tokens get a contiguous copy of the same text once.
 */
function flattenText(tokens: TemplateSpans): void {
  for (const token of tokens) {
    if (token[0] === "text") (token as unknown as string[])[1] = token[1].split("").join("");
    const children = token[4];
    if (Array.isArray(children)) flattenText(children as TemplateSpans);
  }
}

/** Renders only already parsed tokens (renderTokens), so its own template cache stays empty. */
const renderer = new Mustache.Writer();
const VERBATIM = { escape: (value: unknown) => String(value) };

/**
 * Renders `template` with `params`.
 * Values are inserted verbatim: the output is YAML, not HTML, so mustache's default HTML
 * escaping would corrupt values such as `a&b` or placement JSON written as `{{X}}`.
 * @throws SchedulerError invalid_argument: field `spec` for a syntax error or unsupported tag;
 *   one `parameters.X` violation per variable that is used but not set.
 */
export function renderTemplate(template: string, params: Readonly<Record<string, string>>): string {
  // A prototype-free copy, so names like `constructor` are not found on Object.prototype.
  const view: View = Object.assign(Object.create(null) as Record<string, string>, params);
  const tokens = cachedTemplate(template);
  const unset: string[] = [];
  const problems: string[] = [];
  collectUnset(tokens, view, unset, problems);
  const violations: FieldViolation[] = [
    ...problems.map((reason) => ({ field: "spec", reason })),
    ...unset.map((name) => ({
      field: `parameters.${name}`,
      reason: `template variable ${name} is not set`,
    })),
  ];
  if (violations.length > 0) throw SchedulerError.invalid(violations);
  return renderer.renderTokens(tokens as string[][], new Mustache.Context(view), undefined, template, VERBATIM);
}
