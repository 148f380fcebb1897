/**
 * PutService spec builds off the event loop (issue 10, deliverable 4): the worker pool gives the
 * same BuiltService and the same errors as the inline factory, stays bounded, replaces a worker
 * that dies or hangs, falls back to inline builds when workers cannot start, and the scheduler's
 * PutService uses it and re-checks what may have changed while the spec was built.
 */
import { readFileSync, readdirSync } from "node:fs";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { SpecWorkerPool, contextSize, pooledServiceFactory } from "../../src/adapters/spec-worker/pool.js";
import { SchedulerError } from "../../src/domain/errors.js";
import type { ServiceContext } from "../../src/engine/service-context.js";
import { encodeContext } from "../../src/engine/service-context.js";
import type { ServiceFactory } from "../../src/engine/service-factory.js";
import { createSpecServiceFactory } from "../../src/engine/service-factory.js";
import { createHarness, example } from "../harness/harness.js";

const log = pino({ level: "silent" });
const pools: SpecWorkerPool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

function newPool(options: Partial<ConstructorParameters<typeof SpecWorkerPool>[0]> = {}): SpecWorkerPool {
  const pool = new SpecWorkerPool({ fallback: createSpecServiceFactory(), log, ...options });
  pools.push(pool);
  return pool;
}

function context(name: string, spec: string, parameters: Record<string, string> = {}): ServiceContext {
  return { name, spec, parameters, generation: 1, createdMs: 5, updatedMs: 7 };
}

/** What a build gives: the BuiltService, or the thrown error's class, code, message, violations. */
async function outcome(build: () => Promise<unknown> | unknown): Promise<unknown> {
  try {
    return { built: await build() };
  } catch (err) {
    if (err instanceof SchedulerError) return { scheduler: { code: err.code, message: err.message, violations: err.violations } };
    return { other: { name: (err as Error).name, message: (err as Error).message } };
  }
}

const CRASH_WORKER = new URL("../fixtures/spec-worker-crash.ts", import.meta.url);
const fixture = (file: string): string => readFileSync(new URL(`../fixtures/${file}`, import.meta.url), "utf8");
const EXAMPLES = readdirSync(new URL("../../examples/", import.meta.url)).filter((f) => f.endsWith(".yml"));
/** A YAML text that takes the parser a few hundred ms (a timeout far below that trips). */
const SLOW_YAML = `name: {{SERVICE_NAME}}\npods:\n${"  - [a, {b: c}, ]: x\n".repeat(8000)}`;

const INVALID: [string, ServiceContext][] = [
  ["YAML syntax error", context("bad-yaml", "name: {{SERVICE_NAME}}\npods: [\n")],
  ["template syntax error", context("bad-template", "name: {{SERVICE_NAME}\n")],
  ["unset template variables", context("unset", "name: {{SERVICE_NAME}}\ncount: {{N}}{{M}}\n")],
  ["invalid service name", context("Bad__Name", example("simple.yml"))],
  ["refused parameters", context("params", example("simple.yml"), { "\u0000": "x", CERT: "a\u0000b" })],
  ["preset parameter set otherwise", context("preset", example("simple.yml"), { SERVICE_NAME: "other" })],
  ["spec name differs", context("differs", example("simple.yml").replace("{{SERVICE_NAME}}", "other"))],
  ["validation errors", context("invalid", example("hello-world.yml").replace("cpus: 0.1", "cpus: lots").replace("count: 2", "count: -1"))],
  ["too long a spec", context("too-long", `${example("simple.yml")}# ${"x".repeat(300 * 1024)}\n`)],
  ["reference svc.yml without its parameters", context("ref", fixture("reference-svc.yml"))],
  ["alias bomb", context("bomb", ["name: {{SERVICE_NAME}}", "a: &a [x, x, x, x, x, x, x, x, x, x]", ..."bcdefg".split("").map((c, i) => `${c}: &${c} [${Array(10).fill(`*${"abcdefg"[i]}`).join(", ")}]`)].join("\n"))],
  // Deep enough to overflow the stack in the template walk today (both sides alike: the workers
  // get the main thread's stack size), or to be refused once sections have a depth limit.
  ["3,000 nested sections", context("deep", `${"{{#A}}".repeat(3000)}x${"{{/A}}".repeat(3000)}`, { A: "1" })],
];

describe("SpecWorkerPool", () => {
  it("builds the examples exactly as the inline factory does", async () => {
    const pool = newPool({ size: 2 });
    const inline = createSpecServiceFactory();
    const cases = [
      ...EXAMPLES.map((f, i) => context(`svc-${i}`, example(f))),
      context("team/db", example("hello-world.yml")),
      context("ref", fixture("reference-simple.yml"), {}),
    ];
    for (const ctx of cases) {
      const fromPool = await outcome(() => pool.build(ctx));
      expect(fromPool, ctx.name).toStrictEqual(await outcome(() => inline.build(ctx)));
    }
    // Maps, nested arrays and plain objects survive the structured clone as they are.
    const built = await pool.build(context("hello", example("hello-world.yml")));
    expect(built.spec.name).toBe("hello");
    expect(Object.getPrototypeOf(built.spec)).toBe(Object.prototype);
  });

  it.each(INVALID)("gives the same error as the inline factory: %s", async (_, ctx) => {
    const pool = newPool();
    const fromPool = await outcome(() => pool.build(ctx));
    expect(fromPool).toStrictEqual(await outcome(() => createSpecServiceFactory().build(ctx)));
    expect(fromPool).not.toHaveProperty("built");
  });

  it("refuses a context too large to store with encodeContext's error, as PutService does after an inline build", async () => {
    const pool = newPool();
    const ctx = context("big-params", example("simple.yml"), { P: "y".repeat(101 * 1024) });
    const fromPool = await outcome(() => pool.build(ctx));
    expect(fromPool).toMatchObject({ scheduler: { code: "invalid_argument" } });
    expect(fromPool).toStrictEqual(
      await outcome(() => {
        createSpecServiceFactory().build(ctx);
        return encodeContext(ctx);
      }),
    );
  });

  it("rebuilds SchedulerErrors as SchedulerErrors and anything else as a plain Error (INTERNAL at the edge)", async () => {
    const pool = newPool();
    const invalid = await pool.build(context("Bad__Name", example("simple.yml"))).catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(SchedulerError);
    expect(SchedulerError.from(invalid).code).toBe("invalid_argument");
    const deep = INVALID.find(([label]) => label.startsWith("3,000"))![1];
    const err = await pool.build(deep).catch((e: unknown) => e);
    if (!(err instanceof SchedulerError)) {
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).stack).toMatch(/spec-build worker thread/);
    }
  });

  it("replaces a worker that dies, failing only the build it was running", async () => {
    const pool = newPool({ workerUrl: CRASH_WORKER });
    const ok = context("svc-1", example("simple.yml"));
    expect((await pool.build(ok)).spec.name).toBe("svc-1");
    const died = await pool.build(context("crash-7", example("simple.yml"))).catch((e: unknown) => e);
    expect(died).toBeInstanceOf(Error);
    expect(died).not.toBeInstanceOf(SchedulerError);
    expect((died as Error).message).toMatch(/exited with code 7/);
    expect((await pool.build(ok)).spec.name).toBe("svc-1");
    const uncaught = await pool.build(context("throw-uncaught", example("simple.yml"))).catch((e: unknown) => e);
    expect((uncaught as Error).message).toMatch(/uncaught in the worker/);
    expect((await pool.build(ok)).spec.name).toBe("svc-1");
    expect(pool.stats.replaced).toBe(2);
    expect(pool.stats.workers).toBe(1);
  });

  it("abandons a build that runs past the timeout (RESOURCE_EXHAUSTED) and restarts its worker", async () => {
    const pool = newPool({ timeoutMs: 20 });
    const err = await pool.build(context("slow", SLOW_YAML)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SchedulerError);
    expect(err).toMatchObject({ code: "resource_exhausted", message: "spec build ran longer than 20 ms" });
    expect(pool.stats.replaced).toBe(1);
  });

  it("answers a build that runs its worker out of memory with RESOURCE_EXHAUSTED and replaces the worker", async () => {
    const pool = newPool({ workerUrl: CRASH_WORKER, maxHeapMb: 96 });
    const err = await pool.build(context("oom", example("simple.yml"))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SchedulerError);
    expect(err).toMatchObject({ code: "resource_exhausted", message: "spec build needed more than 96 MB" });
    expect(pool.stats.replaced).toBe(1);
    expect((await pool.build(context("svc-1", example("simple.yml")))).spec.name).toBe("svc-1");
  });

  it("fails a request that cannot be cloned with INTERNAL and builds the others on every idle worker", async () => {
    const pool = newPool({ size: 3 });
    // Three ready idle workers.
    await Promise.all(["a", "b", "c"].map((n) => pool.build(context(n, example("hello-world.yml")))));
    expect(pool.stats.workers).toBe(3);
    const uncloneable = context("fn", example("simple.yml"), { F: (() => "x") as unknown as string });
    const results = await Promise.all([uncloneable, ...["d", "e"].map((n) => context(n, example("simple.yml")))].map((c) => outcome(() => pool.build(c))));
    expect(results[0]).toMatchObject({ other: { name: "Error", message: expect.stringMatching(/^spec build failed: /) as unknown } });
    expect(results.slice(1).map((r) => (r as { built: { spec: { name: string } } }).built.spec.name)).toEqual(["d", "e"]);
    expect(pool.stats).toMatchObject({ replaced: 1, busy: 0, queued: 0 });
  });

  it("answers RESOURCE_EXHAUSTED beyond size + maxQueued builds, and builds the rest", async () => {
    const pool = newPool({ size: 1, maxQueued: 2 });
    const builds = Array.from({ length: 5 }, (_, i) => outcome(() => pool.build(context(`svc-${i}`, example("hello-world.yml")))));
    const results = await Promise.all(builds);
    const exhausted = results.filter((r) => (r as { scheduler?: { code: string } }).scheduler?.code === "resource_exhausted");
    expect(exhausted).toHaveLength(2);
    expect(results.slice(0, 3).every((r) => "built" in (r as object))).toBe(true);
    expect(pool.stats.rejected).toBe(2);
    expect((await pool.build(context("after", example("simple.yml")))).spec.name).toBe("after");
  });

  it("close() fails waiting and running builds with UNAVAILABLE and refuses new ones", async () => {
    const pool = newPool({ size: 1 });
    const running = outcome(() => pool.build(context("slow", SLOW_YAML)));
    const waiting = outcome(() => pool.build(context("next", example("simple.yml"))));
    await pool.close();
    const unavailable = { scheduler: { code: "unavailable", message: "the scheduler is stopping", violations: [] } };
    expect(await running).toStrictEqual(unavailable);
    expect(await waiting).toStrictEqual(unavailable);
    expect(await outcome(() => pool.build(context("late", example("simple.yml"))))).toStrictEqual(unavailable);
    expect(pool.stats.workers).toBe(0);
  });

  it("builds inline when workers cannot start", async () => {
    const pool = newPool({ workerUrl: new URL("../fixtures/no-such-worker.js", import.meta.url) });
    for (let i = 0; i < 4; i++) {
      expect((await pool.build(context(`svc-${i}`, example("simple.yml")))).spec.name).toBe(`svc-${i}`);
    }
    expect(await outcome(() => pool.build(context("Bad__Name", example("simple.yml"))))).toMatchObject({ scheduler: { code: "invalid_argument" } });
  });
});

describe("pooledServiceFactory", () => {
  it("builds contexts that provably render small inline, the rest in the pool", async () => {
    const pool = newPool();
    const factory = pooledServiceFactory(pool, createSpecServiceFactory(), { inlineMaxChars: 1024, inlineMaxMs: 0 });
    await factory.buildForRequest!(context("small", example("simple.yml")));
    expect(pool.stats.started).toBe(0);
    const fits = (ctx: ServiceContext): boolean => Math.max(contextSize(ctx, 1024).chars, contextSize(ctx, 1024).rendered) <= 1024;
    expect(fits(context("expands", "name: {{SERVICE_NAME}}\nx: {{P}}\n", { P: "y".repeat(2000) }))).toBe(false);
    expect(fits(context("tags", "{{A}}".repeat(100), { A: "yyyyyyyyyyyy" }))).toBe(false);
    expect(fits(context("ok", "{{A}}".repeat(10), { A: "y" }))).toBe(true);
    expect(fits(context("params", "x", Object.fromEntries(Array.from({ length: 400 }, (_, i) => [`K${i}`, "v"]))))).toBe(false);
    expect(fits(context("x".repeat(2000), "x"))).toBe(false);
    // Other delimiters hide tags from the count: 160 `|A|` of 486 characters each.
    const delimited = context("delimited", `{{=| |=}}\nname: |SERVICE_NAME|\n${"|A|".repeat(160)}`, { A: "y".repeat(486) });
    expect(contextSize(delimited, 1024)).toEqual({ chars: 9 + delimited.spec.length + 1 + 486, rendered: Infinity });
    expect(fits(delimited)).toBe(false);
    expect(fits(context("braces", "{{=<% %>=}}x"))).toBe(false);
    await factory.buildForRequest!(context("big-1", example("hello-world.yml")));
    await factory.buildForRequest!(context("big-2", example("hello-world.yml")));
    expect(pool.stats.jobs).toBe(2);
    // Recovery's build stays on the calling thread.
    expect(factory.build(context("svc-r", example("hello-world.yml"))).spec.name).toBe("svc-r");
    expect(pool.stats.jobs).toBe(2);
  });

  it("builds a family inline once the pool built it cheaply, and gives the same results", async () => {
    const pool = newPool();
    const factory = pooledServiceFactory(pool, createSpecServiceFactory(), { inlineMaxChars: 0, inlineMaxMs: 10_000 });
    const hello = (name: string): ServiceContext => context(name, example("hello-world.yml"));
    const first = await factory.buildForRequest!(hello("svc-1"));
    expect(pool.stats.jobs).toBe(1);
    const second = await factory.buildForRequest!(hello("svc-2")); // same family: inline
    expect(pool.stats.jobs).toBe(1);
    await factory.buildForRequest!(hello("svc-10")); // another name length: another family
    expect(pool.stats.jobs).toBe(2);
    expect(second).toStrictEqual(createSpecServiceFactory().build(hello("svc-2")));
    expect(first).toStrictEqual(createSpecServiceFactory().build(hello("svc-1")));
    // Errors of a cheap family are the inline errors too.
    const bad = context("bad-1", "name: {{SERVICE_NAME}}\npods: [\n");
    const fromPool = await outcome(() => factory.buildForRequest!(bad));
    const inline = await outcome(() => factory.buildForRequest!({ ...bad, name: "bad-2" }));
    expect(pool.stats.jobs).toBe(3);
    expect(JSON.stringify(inline).replaceAll("bad-2", "bad-1")).toBe(JSON.stringify(fromPool));
  });
});

describe("PutService with a factory that builds elsewhere", () => {
  /** A factory whose request builds wait for `release()`, so a test can act in between. */
  function gatedFactory(): { factory: ServiceFactory; release: () => void; requests: () => number } {
    const inline = createSpecServiceFactory();
    let open: () => void = () => undefined;
    let gate = new Promise<void>((r) => (open = r));
    let requests = 0;
    return {
      factory: {
        build: (ctx) => inline.build(ctx),
        async buildForRequest(ctx) {
          requests++;
          await gate;
          return inline.build(ctx);
        },
      },
      release: () => {
        open();
        gate = new Promise<void>((r) => (open = r));
      },
      requests: () => requests,
    };
  }

  it("builds through buildForRequest and checks the scheduler again after the build", async () => {
    const gated = gatedFactory();
    const h = await createHarness({ deps: { factory: gated.factory } });
    const first = h.put("a", "simple.yml");
    await new Promise((r) => setImmediate(r));
    expect(gated.requests()).toBe(1);
    gated.release();
    expect((await first).outcome).toBe("CREATED");
    await h.deployAll(["a"]);

    // The store lock is lost while the next put's spec is being built: nothing is stored.
    const fenced = gatedFactory();
    let holds = true;
    const h2 = await createHarness({ deps: { factory: fenced.factory }, fence: { holds: () => holds } });
    const put = h2.scheduler.putService({ name: "b", spec: example("simple.yml"), parameters: {} });
    await new Promise((r) => setImmediate(r));
    holds = false;
    fenced.release();
    await expect(put).rejects.toMatchObject({ code: "unavailable" });
    holds = true;
    expect(h2.scheduler.listServices()).toEqual([]);
  });

  it("works with the real worker pool end to end", async () => {
    const pool = newPool();
    const h = await createHarness({ deps: { factory: pooledServiceFactory(pool, createSpecServiceFactory()) } });
    expect((await h.put("hello", "hello-world.yml")).outcome).toBe("CREATED");
    expect((await h.put("hello", "hello-world.yml")).outcome).toBe("UNCHANGED");
    await expect(h.scheduler.putService({ name: "bad", spec: "name: bad\npods: [", parameters: {} })).rejects.toMatchObject({ code: "invalid_argument" });
    // The same refusals as a scheduler that builds inline.
    const inline = await createHarness();
    const big = { name: "big", spec: example("simple.yml"), parameters: { P: "y".repeat(101 * 1024) } };
    const refusal = (h2: typeof h): Promise<unknown> => outcome(() => h2.scheduler.putService(big));
    expect(await refusal(h)).toStrictEqual(await refusal(inline));
    expect(await refusal(h)).toMatchObject({ scheduler: { code: "invalid_argument" } });
    await h.deployAll(["hello"]);
    expect(pool.stats.started).toBe(1);
  });
});
