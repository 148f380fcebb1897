/**
 * Small value readers shared by the pod and task keys of §4.2: `k:v,k2:v2` label strings,
 * sandbox-relative paths, environment variable names and lists of port numbers.
 */
import type { Issues } from "./fields.js";
import { controlProblem, describe, isAbsent, readList, readMap, readNumber, violate } from "./fields.js";

export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const LABEL_EXAMPLE = "for example k_0:v_0,k_1:v_1";

/**
 * Labels as the reference writes them, a `k:v,k2:v2` string (each entry exactly one ':'); a
 * mapping is accepted too. Keys are non-empty and unique.
 */
export function readLabels(issues: Issues, field: string, value: unknown): Record<string, string> {
  const entries: [string, string][] = [];
  const add = (key: string, text: string, at: string) => {
    const problem = controlProblem(key) ?? controlProblem(text);
    if (key === "") violate(issues, at, `a label key must not be empty (${LABEL_EXAMPLE})`);
    else if (problem !== undefined) violate(issues, at, problem);
    else if (entries.some(([k]) => k === key)) violate(issues, at, `label ${describe(key)} is given twice`);
    else entries.push([key, text]);
  };
  if (isAbsent(value)) return {};
  if (value instanceof Map) {
    for (const [key, raw] of readMap(issues, field, value) ?? []) {
      if (raw instanceof Map || Array.isArray(raw)) violate(issues, `${field}.${key}`, "must be a scalar value");
      else add(key, typeof raw === "string" ? raw : "", `${field}.${key}`);
    }
  } else if (typeof value === "string") {
    for (const entry of value.split(",")) {
      const parts = entry.split(":");
      if (parts.length !== 2) {
        violate(issues, field, `illegal label ${describe(entry)}: each entry is key:value (${LABEL_EXAMPLE})`);
        continue;
      }
      add(parts[0]!.trim(), parts[1]!.trim(), field);
    }
  } else {
    violate(issues, field, `must be a k:v,k2:v2 string or a mapping, got ${describe(value)}`);
  }
  return Object.fromEntries(entries);
}

/** Why `path` is not relative to the sandbox without '..' (undefined when it is). */
export function relativePathProblem(path: string): string | undefined {
  if (path.startsWith("/") || path.split("/").includes("..")) return "must be relative to the task sandbox, without '..'";
  return controlProblem(path);
}

/** Why `path` is not an absolute path without '..' (undefined when it is). */
export function absolutePathProblem(path: string): string | undefined {
  if (!path.startsWith("/") || path.split("/").includes("..")) return "must be an absolute path without '..'";
  return controlProblem(path);
}

/** A list of port numbers 1–65535. */
export function readPortList(issues: Issues, field: string, value: unknown): number[] {
  const ports: number[] = [];
  (readList(issues, field, value) ?? []).forEach((raw, i) => {
    const port = readNumber(issues, `${field}[${i}]`, raw, { integer: true, min: 1, max: 65535 });
    if (port !== undefined) ports.push(port);
  });
  return ports;
}
