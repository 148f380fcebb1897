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

/** Parses with a private writer so user templates never accumulate in mustache's global cache. */
function parseTemplate(writer: Mustache.Writer, template: string): TemplateSpans {
  try {
    return writer.parse(template) as TemplateSpans;
  } catch (err) {
    const reason = `template syntax error: ${err instanceof Error ? err.message : String(err)}`;
    throw new SchedulerError("invalid_argument", `spec: ${reason}`, {
      cause: err,
      violations: [{ field: "spec", reason }],
    });
  }
}

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
  const writer = new Mustache.Writer();
  const tokens = parseTemplate(writer, template);
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
  return writer.render(template, view, undefined, { escape: (value: unknown) => String(value) });
}
