import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { SchedulerError } from "../domain/errors.js";
import type { ServiceContext } from "./service-context.js";
import { createSpecServiceFactory } from "./service-factory.js";

const HELLO = readFileSync(new URL("../../examples/hello-world.yml", import.meta.url), "utf8");

function context(name: string, spec = HELLO, parameters: Record<string, string> = {}): ServiceContext {
  return { name, spec, parameters, generation: 1, createdMs: 0, updatedMs: 0 };
}

function outcome(fn: () => unknown): unknown {
  try {
    return fn();
  } catch (err) {
    if (!(err instanceof SchedulerError)) throw err;
    return { code: err.code, message: err.message, violations: err.violations };
  }
}

describe("specServiceFactory", () => {
  it("builds the same service with a shared factory as with a fresh one for each", () => {
    const shared = createSpecServiceFactory();
    const fixed = "name: fixed\npods:\n  p:\n    count: {{N}}\n    tasks:\n      t: {cmd: x, cpus: 1, memory: 32}\n";
    const contexts = [
      context("svc-0001"),
      context("svc-0002"),
      context("team/db-1"),
      context("abc"),
      context("svc-0003", HELLO, { SERVICE_NAME: "svc-0003" }),
      context("fixed", fixed, { N: "1" }),
      context("fixed", fixed, { N: "x" }),
      context("other", fixed, { N: "1" }),
      context("svc-0004", HELLO, { FRAMEWORK_NAME: "nope" }),
    ];
    for (const ctx of [...contexts, ...contexts.reverse()]) {
      const fresh = outcome(() => createSpecServiceFactory().build(ctx));
      expect(outcome(() => shared.build(ctx)), ctx.name).toEqual(fresh);
    }
  });
});
