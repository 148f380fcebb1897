/**
 * ServiceFactory (design doc "Config serialization and ServiceFactory implementation"): turns a
 * stored or submitted context into a built service. Deterministic and side-effect free, so it
 * can run before anything is stored and again on every restart.
 */
import { SchedulerError, abbreviate } from "../domain/errors.js";
import { validateServiceName } from "../domain/names.js";
import { validateParameters } from "../domain/spec/parameters.js";
import { YamlDocCache, parseServiceSpec } from "../domain/spec/parse.js";
import { renderTemplate } from "../domain/spec/template.js";
import { withTaskConfig } from "../domain/spec/task-config.js";
import type { ServiceContext } from "./service-context.js";
import type { BuiltService } from "./service-scheduler.js";

export interface ServiceFactory {
  /** Builds on the calling thread. Recovery rebuilds every stored service with it (and its caches). */
  build(context: ServiceContext): BuiltService;
  /**
   * The same build for a PutService request, where a spec of up to the request limit must not
   * hold up the event loop: an implementation may build elsewhere (the worker pool,
   * `adapters/spec-worker`) and gives the same BuiltService or the same SchedulerError as
   * `build`, except that it may also refuse a context too large to store (`encodeContext`'s
   * error, which PutService gives right after the build anyway) so that such a context is never
   * encoded on the event loop. Absent: the scheduler calls `build`.
   * @throws SchedulerError resource_exhausted when too many builds are already waiting
   */
  buildForRequest?(context: ServiceContext): Promise<BuiltService>;
}

/** Template variables preset by the scheduler (the service name, or the context's `presets`). */
const PRESET_PARAMETERS = ["SERVICE_NAME", "FRAMEWORK_NAME"] as const;

/** What the preset variables render to: the context's presets (static, mono), else the service name. */
export function presetValues(context: ServiceContext): { readonly SERVICE_NAME: string; readonly FRAMEWORK_NAME: string } {
  return context.presets ?? { SERVICE_NAME: context.name, FRAMEWORK_NAME: context.name };
}

/**
 * The parameters apart from the preset ones, as a key: services that differ only in their name
 * render one template to texts that differ only where the name went (and build with the same work).
 */
export function familyOf(context: ServiceContext): string {
  let params = "";
  for (const [key, value] of Object.entries(context.parameters)) {
    if (key === "SERVICE_NAME" || key === "FRAMEWORK_NAME") continue;
    params += `${key.length}:${key}${value.length}:${value}`;
  }
  // Presets go where the name would: their lengths, like the name's, shape the rendered text.
  const presets = context.presets ? `${context.presets.SERVICE_NAME.length}:${context.presets.FRAMEWORK_NAME.length}` : "";
  return `${context.name.length}\u0000${presets}\u0000${params}\u0000${context.spec}`;
}

/**
 * The built-in factory: render the spec template, parse and validate it. Services rendered from
 * one template and parameters share the parsed YAML document when that provably gives the same
 * tree (`YamlDocCache`); validation runs for every service. `cacheEntries` bounds the documents
 * kept (one per template, parameters and name length).
 */
export function createSpecServiceFactory(cacheEntries = 64): ServiceFactory {
  const cache = new YamlDocCache(cacheEntries);
  return {
    build(context: ServiceContext): BuiltService {
      const violations = [...validateServiceName(context.name), ...validateParameters(context.parameters)];
      if (violations.length > 0) throw SchedulerError.invalid(violations);
      const presets = presetValues(context);
      for (const key of PRESET_PARAMETERS) {
        const given = context.parameters[key];
        if (given !== undefined && given !== presets[key]) {
          const to = context.presets ? `'${abbreviate(presets[key])}'` : `the service name '${context.name}'`;
          throw SchedulerError.invalid([{ field: `parameters.${key}`, reason: `is preset to ${to} and cannot be '${abbreviate(given)}'` }]);
        }
      }
      const params = { ...context.parameters, ...presets };
      const rendered = renderTemplate(context.spec, params);
      const parsed = parseServiceSpec(rendered, { cache, family: familyOf(context) });
      const named = withTaskConfig(parsed.spec, context.parameters);
      const warnings = parsed.warnings;
      if (named.name !== context.name) {
        throw SchedulerError.invalid([
          { field: "spec.name", reason: `'${abbreviate(named.name)}' differs from the service name '${context.name}' (use name: {{SERVICE_NAME}})` },
        ]);
      }
      // A spec naming its own user keeps no default: the context says only what applies.
      if (named.user !== undefined || context.defaultUser === undefined) {
        return { context: withoutDefaultUser(context), rendered, spec: named, warnings };
      }
      return { context, rendered, spec: { ...named, user: context.defaultUser }, warnings };
    },
  };
}

function withoutDefaultUser(context: ServiceContext): ServiceContext {
  if (context.defaultUser === undefined) return context;
  const { defaultUser, ...rest } = context;
  void defaultUser;
  return rest;
}

export const specServiceFactory: ServiceFactory = createSpecServiceFactory();
