/**
 * `pods.<type>.placement` → PlacementSpec, accepting what the reference's
 * MarathonConstraintParser accepts: a JSON list of rows (`[["hostname","UNIQUE"]]`), one flat row
 * (`["hostname","UNIQUE"]`), the same written as a YAML list, or the Marathon string form
 * (`hostname:UNIQUE,rack_id:LIKE:rack-[1-3]`, with `\,` and `\:` escaping the separators).
 * Each row is `field:OPERATOR[:parameter]`. Every problem is a violation at `field` whose reason
 * quotes the constraint and names its operator.
 */
import type { Issues } from "./fields.js";
import { controlProblem, describe, isAbsent, violate } from "./fields.js";
import type { PlacementConstraint, PlacementOperator, PlacementSpec } from "./placement.js";
import { PLACEMENT_LIMITS, PLACEMENT_OPERATORS, placementTarget } from "./placement.js";
import { regexProblem } from "./placement-regex.js";

type Row = readonly string[];

/** The pod's placement; undefined when there is none or it is invalid (then with violations). */
export function parsePlacement(issues: Issues, field: string, value: unknown): PlacementSpec | undefined {
  if (isAbsent(value)) return undefined;
  const rows = splitRows(value);
  if (typeof rows === "string") return violate(issues, field, rows);
  if (rows.length === 0) return undefined;
  if (rows.length > PLACEMENT_LIMITS.maxConstraints) {
    return violate(issues, field, `has ${rows.length} constraints, at most ${PLACEMENT_LIMITS.maxConstraints} are allowed (PLACEMENT_LIMITS.maxConstraints)`);
  }
  const constraints: PlacementConstraint[] = [];
  for (const [i, row] of rows.entries()) {
    const parsed = parseRow(row);
    if (typeof parsed !== "string") {
      constraints.push(parsed);
      continue;
    }
    const which = rows.length > 1 ? `constraint ${i + 1} ` : "constraint ";
    violate(issues, field, `${which}${describe(row.join(":"))}: ${parsed}`);
  }
  return constraints.length === rows.length ? { constraints } : undefined;
}

/** The rows of a placement value, or why it is not one. */
function splitRows(value: unknown): Row[] | string {
  if (Array.isArray(value)) return rowsOfList(value, "a YAML list");
  if (typeof value !== "string") return `must be a constraint string or list, got ${describe(value)}`;
  const text = value.trim();
  if (text === "") return [];
  if (!text.startsWith("[")) return escapedSplit(text, ",").map((row) => escapedSplit(row, ":"));
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return `is not a valid JSON list of constraints (${err instanceof Error ? err.message : String(err)}); write [["hostname","UNIQUE"]] or hostname:UNIQUE`;
  }
  return Array.isArray(parsed) ? rowsOfList(parsed, "a JSON list") : "must be a list of constraints such as [[\"hostname\",\"UNIQUE\"]]";
}

/** A flat list is one row; otherwise every element is a row. Numbers count as their text. */
function rowsOfList(list: readonly unknown[], what: string): Row[] | string {
  const cell = (v: unknown): string | undefined => (typeof v === "string" ? v.trim() : typeof v === "number" ? String(v) : undefined);
  if (list.every((v) => cell(v) !== undefined)) return list.length === 0 ? [] : [list.map((v) => cell(v)!)];
  const rows: Row[] = [];
  for (const item of list) {
    const row = Array.isArray(item) ? item.map(cell) : undefined;
    if (!row || row.some((c) => c === undefined)) {
      return `must be ${what} of constraints, each a list of strings such as ["hostname","UNIQUE"], got ${describe(item)} in it`;
    }
    rows.push(row as string[]);
  }
  return rows;
}

/**
 * `str` split at every `split` not escaped by a backslash, each piece trimmed; `\<split>` becomes
 * `<split>`, any other backslash stays (so regular expressions keep theirs).
 */
export function escapedSplit(str: string, split: string): string[] {
  const out: string[] = [];
  let buf = "";
  for (let i = 0; i < str.length; i++) {
    const c = str[i]!;
    if (c === "\\" && str[i + 1] === split) {
      buf += split;
      i++;
    } else if (c === split) {
      out.push(buf.trim());
      buf = "";
    } else {
      buf += c;
    }
  }
  out.push(buf.trim());
  return out;
}

function parseRow(row: Row): PlacementConstraint | string {
  if (row.length < 2 || row.length > 3) return `must be field:OPERATOR or field:OPERATOR:parameter, got ${row.length} part${row.length === 1 ? "" : "s"}`;
  const [field, opText, paramText] = row as [string, string, string | undefined];
  if (field === "") return "names no field; use hostname, zone, region or an agent attribute";
  const fieldProblem = controlProblem(field);
  if (fieldProblem !== undefined) return `field ${fieldProblem}`;
  const operator = PLACEMENT_OPERATORS.find((op) => op === opText.toUpperCase());
  if (!operator) return `unknown operator ${describe(opText)}; expected one of ${PLACEMENT_OPERATORS.join(", ")}`;
  const param = paramText === undefined || paramText === "" ? undefined : paramText;
  const base = { field, target: placementTarget(field), operator };
  const checked = parameterOf(operator, param);
  return typeof checked === "string" ? checked : { ...base, ...checked };
}

type Parameter = { value?: string; count?: number };

/** The operator's parameter checked, or why it is wrong (the reason names the operator). */
function parameterOf(operator: PlacementOperator, param: string | undefined): Parameter | string {
  switch (operator) {
    case "UNIQUE":
      return param === undefined ? {} : `UNIQUE takes no parameter, got ${describe(param)}`;
    case "GROUP_BY":
      return param === undefined ? {} : countOf(operator, param);
    case "MAX_PER":
      return param === undefined ? "MAX_PER needs the most instances per value, a whole number such as 2" : countOf(operator, param);
    case "LIKE":
    case "UNLIKE": {
      if (param === undefined) return `${operator} needs a regular expression, such as ${operator === "LIKE" ? "rack-[1-3]" : "10\\.0\\.0\\..*"}`;
      const problem = regexProblem(param);
      return problem === undefined ? { value: param } : `${operator} parameter ${describe(param)} ${problem}`;
    }
    case "CLUSTER":
    case "IS":
    case "IS_NOT":
      if (param === undefined) return operator === "CLUSTER" ? {} : `${operator} needs a value to compare with`;
      return valueOf(operator, param);
  }
}

function countOf(operator: PlacementOperator, param: string): Parameter | string {
  const n = /^\d+$/.test(param) ? Number(param) : NaN;
  if (n >= 1 && n <= PLACEMENT_LIMITS.maxCount) return { count: n };
  const what = operator === "MAX_PER" ? "the most instances per value" : "how many values to spread over";
  return `${operator} needs ${what}, a whole number from 1 to ${PLACEMENT_LIMITS.maxCount}, got ${describe(param)}`;
}

function valueOf(operator: PlacementOperator, param: string): Parameter | string {
  if (param.length > PLACEMENT_LIMITS.maxValueChars) return `${operator} value is longer than ${PLACEMENT_LIMITS.maxValueChars} characters (PLACEMENT_LIMITS.maxValueChars)`;
  const problem = controlProblem(param);
  return problem === undefined ? { value: param } : `${operator} value ${problem}`;
}
