import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { SchedulerError } from "../domain/errors.js";
import type { ServiceContext } from "./service-context.js";
import { decodeContext, encodeContext } from "./service-context.js";
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

  it("refuses a preset parameter other than the service name for an API context", () => {
    const err = outcome(() => createSpecServiceFactory().build(context("svc", HELLO, { SERVICE_NAME: "svc-base" })));
    expect(err).toMatchObject({ code: "invalid_argument", violations: [{ field: "parameters.SERVICE_NAME", reason: expect.stringContaining("preset to the service name 'svc'") as string }] });
  });

  it("renders a file's presets (static, mono) and keeps refusing other values for them", () => {
    const template = "name: {{SERVICE_NAME}}-{{FRAMEWORK_NAME}}\npods:\n  p:\n    count: 1\n    tasks:\n      t: {cmd: x, cpus: 1, memory: 32}\n";
    const presets = { SERVICE_NAME: "base", FRAMEWORK_NAME: "fw" };
    const built = createSpecServiceFactory().build({ ...context("base-fw", template), presets });
    expect(built.spec.name).toBe("base-fw");
    expect(built.context.presets).toEqual(presets);
    const same = createSpecServiceFactory().build({ ...context("base-fw", template, { FRAMEWORK_NAME: "fw" }), presets });
    expect(same.spec).toEqual(built.spec);
    const err = outcome(() => createSpecServiceFactory().build({ ...context("base-fw", template, { SERVICE_NAME: "base-fw" }), presets }));
    expect(err).toMatchObject({ code: "invalid_argument", violations: [{ field: "parameters.SERVICE_NAME", reason: "is preset to 'base' and cannot be 'base-fw'" }] });
    // A shared factory gives what fresh ones give across presets of other lengths.
    const shared = createSpecServiceFactory();
    for (const p of [presets, { SERVICE_NAME: "b", FRAMEWORK_NAME: "fwx" }, presets]) {
      const name = `${p.SERVICE_NAME}-${p.FRAMEWORK_NAME}`;
      expect(shared.build({ ...context(name, template), presets: p }).spec).toEqual(createSpecServiceFactory().build({ ...context(name, template), presets: p }).spec);
    }
  });

  it("applies the default user to a spec naming none, and keeps no default for a spec naming one", () => {
    const factory = createSpecServiceFactory();
    const none = factory.build({ ...context("svc"), defaultUser: "root" });
    expect(none.spec.user).toBe("root");
    expect(none.context.defaultUser).toBe("root");
    const named = factory.build({ ...context("svc", `scheduler:\n  user: nobody\n${HELLO}`), defaultUser: "root" });
    expect(named.spec.user).toBe("nobody");
    expect(named.context).not.toHaveProperty("defaultUser");
    expect(factory.build(context("svc")).spec).not.toHaveProperty("user");
  });

  it("stores presets and the default user with the context; an old context without them decodes as before", () => {
    const ctx: ServiceContext = { ...context("svc"), presets: { SERVICE_NAME: "base", FRAMEWORK_NAME: "fw" }, defaultUser: "root" };
    expect(decodeContext(encodeContext(ctx))).toEqual(ctx);
    const old = new TextEncoder().encode(JSON.stringify({ name: "svc", spec: HELLO, parameters: {}, generation: 3, createdMs: 1, updatedMs: 2 }));
    expect(decodeContext(old)).toEqual({ name: "svc", spec: HELLO, parameters: {}, generation: 3, createdMs: 1, updatedMs: 2 });
    const bad = new TextEncoder().encode(JSON.stringify({ name: "svc", spec: HELLO, presets: { SERVICE_NAME: 1 } }));
    expect(outcome(() => decodeContext(bad))).toMatchObject({ code: "internal", message: expect.stringContaining("presets") as string });
  });
});
