/**
 * The service set of static and mono mode, named before anything is read from the store: the
 * schema check needs the names (a static set over a mono store migrates only when one of them is
 * named like the framework). Pure: each file rendered with its presets and its `name:` read;
 * the rest of the spec is checked by the dry-run put at start.
 */
import { SchedulerError, abbreviate } from "../domain/errors.js";
import type { FieldViolation } from "../domain/errors.js";
import { sanitizeServiceName } from "../domain/names.js";
import { renderTemplate } from "../domain/spec/template.js";
import { loadYaml } from "../domain/spec/yaml-load.js";
import type { PutServiceInput } from "./admin-api.js";
import type { StaticServiceFile } from "./scheduler-parts.js";
import type { ServicePresets } from "./service-context.js";

/** One file's service: the put the start path makes for it. */
export interface StaticService {
  readonly file: string;
  /** The rendered `name:`. */
  readonly name: string;
  readonly input: PutServiceInput;
  readonly presets: ServicePresets;
}

/**
 * Static: SERVICE_NAME is the file's base name, FRAMEWORK_NAME the framework's. Mono: both are
 * the framework name (the one service is named like the framework).
 */
export function presetsOf(file: StaticServiceFile, frameworkName: string, mode: "static" | "mono"): ServicePresets {
  return { SERVICE_NAME: mode === "mono" ? frameworkName : file.base, FRAMEWORK_NAME: frameworkName };
}

/** The rendered `name:` of a file (its template with the -p parameters and the presets). */
export function renderedName(file: StaticServiceFile, presets: ServicePresets): string {
  let tree: unknown;
  try {
    tree = loadYaml(renderTemplate(file.spec, { ...file.parameters, ...presets }), []);
  } catch (err) {
    throw refusedFile(file.file, err);
  }
  const name = tree instanceof Map ? (tree as Map<string, unknown>).get("name") : undefined;
  if (typeof name !== "string" || name === "") {
    throw new SchedulerError("invalid_argument", `spec file '${abbreviate(file.file)}' renders no service name (name:)`, {
      violations: [{ field: `${file.file}: spec.name`, reason: "missing" }],
    });
  }
  return name;
}

/**
 * The services of the files, in file order. Mono: exactly one, named like the framework.
 * Static: two files may not name one service (nor two names one task-ID name).
 */
export function staticServiceSet(files: readonly StaticServiceFile[], frameworkName: string, mode: "static" | "mono"): StaticService[] {
  if (mode === "mono" && files.length !== 1) {
    throw new SchedulerError("invalid_argument", `mono mode runs one spec file (--service); ${files.length} given`);
  }
  const bySanitized = new Map<string, StaticService>();
  return files.map((file) => {
    const presets = presetsOf(file, frameworkName, mode);
    const name = renderedName(file, presets);
    if (mode === "mono" && name !== frameworkName) {
      throw new SchedulerError(
        "invalid_argument",
        `spec file '${abbreviate(file.file)}' names its service '${abbreviate(name)}'; in mono mode it must be named like the framework, '${frameworkName}' (name: {{FRAMEWORK_NAME}})`,
      );
    }
    const service: StaticService = { file: file.file, name, presets, input: { name, spec: file.spec, parameters: file.parameters } };
    const key = sanitizeServiceName(name);
    const other = bySanitized.get(key);
    if (other) {
      const same = other.name === name ? `the service name '${abbreviate(name)}'` : `the service names '${abbreviate(other.name)}' and '${abbreviate(name)}' (one task-ID name '${abbreviate(key)}')`;
      throw new SchedulerError("invalid_argument", `spec files '${abbreviate(other.file)}' and '${abbreviate(file.file)}' both render ${same}`);
    }
    bySanitized.set(key, service);
    return service;
  });
}

/** A file's refusal at start: its file named, the violations kept (fields prefixed by the file). */
export function refusedFile(file: string, err: unknown, service?: string): SchedulerError {
  const e = err instanceof SchedulerError ? err : new SchedulerError("internal", err instanceof Error ? err.message : String(err));
  const what = service === undefined ? `spec file '${abbreviate(file)}'` : `spec file '${abbreviate(file)}' (service '${abbreviate(service)}')`;
  const violations: FieldViolation[] = e.violations.map((v) => ({ field: `${file}: ${v.field}`, reason: v.reason }));
  return new SchedulerError(e.code, `${what} is refused: ${e.message}`, { violations, cause: err });
}
