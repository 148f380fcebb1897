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

  it.each([
    { name: "NUL and an empty name the template does not use", parameters: { "\u0000": "x", "": "y" }, fields: ["parameters.\u0000", "parameters."] },
    { name: "a control character in a name", parameters: { "A\u0085": "1" }, fields: ["parameters.A\u0085"] },
    { name: "NUL in a value", parameters: { CERT: "a\u0000b" }, fields: ["parameters.CERT"] },
  ])("refuses parameters with $name before rendering, with the name's violations", ({ parameters, fields }) => {
    const err = outcome(() => createSpecServiceFactory().build(context("Svc", HELLO, parameters)));
    expect(err).toMatchObject({ code: "invalid_argument" });
    expect((err as { violations: { field: string }[] }).violations.map((v) => v.field)).toEqual(["name", ...fields]);
  });

  it("accepts tab and newline in a parameter value (a PEM certificate put into env)", () => {
    const built = createSpecServiceFactory().build(context("svc", HELLO, { CERT: "-----BEGIN-----\n\tAAA\n" }));
    expect(built.context.parameters).toEqual({ CERT: "-----BEGIN-----\n\tAAA\n" });
  });
});
