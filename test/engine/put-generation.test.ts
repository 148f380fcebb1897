/**
 * PutService's optimistic concurrency (`expectedGeneration`) and its one queue: the change is
 * applied inside one work item of the runner's queue, checked again there after the spec build.
 * Simulated cluster, fake clock.
 */
import { describe, expect, it } from "vitest";
import type { WriteFence } from "../../src/engine/ports.js";
import type { ServiceContext } from "../../src/engine/service-context.js";
import type { ServiceFactory } from "../../src/engine/service-factory.js";
import { specServiceFactory } from "../../src/engine/service-factory.js";
import { createHarness, example } from "../harness/harness.js";
import { dumpStore } from "./store-dump.js";

const SIMPLE = example("simple.yml");

/** A factory whose request builds wait until the test lets them finish. */
function heldFactory(): { factory: ServiceFactory; release(): void; waiting(): number } {
  const held: (() => void)[] = [];
  return {
    factory: {
      build: (ctx) => specServiceFactory.build(ctx),
      buildForRequest: (ctx: ServiceContext) => new Promise((resolve) => held.push(() => resolve(specServiceFactory.build(ctx)))),
    },
    release: () => {
      for (const go of held.splice(0)) go();
    },
    waiting: () => held.length,
  };
}

async function until(what: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !what(); i++) await new Promise((r) => setImmediate(r));
  expect(what()).toBe(true);
}

describe("PutService with expectedGeneration", () => {
  it("creates a service expected at generation 0 and shows generation 1", async () => {
    const h = await createHarness();
    const result = await h.scheduler.putService({ name: "hello", spec: SIMPLE, parameters: {}, expectedGeneration: 0 });
    expect(result.outcome).toBe("CREATED");
    expect(result.service.generation).toBe(1);
    expect(h.scheduler.getService("hello").generation).toBe(1);
  });

  it("answers ABORTED naming both generations, and changes nothing", async () => {
    const h = await createHarness();
    await h.put("hello", "simple.yml");
    const before = await dumpStore(h.persister);
    const stale = h.scheduler.putService({ name: "hello", spec: example("hello-world.yml"), parameters: {}, expectedGeneration: 3 });
    await expect(stale).rejects.toMatchObject({ code: "aborted", message: expect.stringMatching(/generation 1.*expected 3/) as string });
    const missing = h.scheduler.putService({ name: "nothing", spec: SIMPLE, parameters: {}, expectedGeneration: 1 });
    await expect(missing).rejects.toMatchObject({ code: "aborted", message: expect.stringMatching(/generation 0.*expected 1/) as string });
    await h.settle();
    expect(await dumpStore(h.persister)).toEqual(before);
    expect(h.scheduler.listServices().map((s) => s.name)).toEqual(["hello"]);
  });

  it("lets one of two racing callers through and answers the other ABORTED", async () => {
    const held = heldFactory();
    const h = await createHarness({ deps: { factory: held.factory } });
    const first = h.scheduler.putService({ name: "hello", spec: SIMPLE, parameters: {}, expectedGeneration: 0 });
    const second = h.scheduler.putService({ name: "hello", spec: example("hello-world.yml"), parameters: {}, expectedGeneration: 0 });
    await until(() => held.waiting() === 1);
    held.release();
    const [a, b] = await Promise.allSettled([first, second]);
    expect(a).toMatchObject({ status: "fulfilled", value: { outcome: "CREATED" } });
    expect(b).toMatchObject({ status: "rejected", reason: { code: "aborted" } });
    await h.deployAll(["hello"]);
    expect(h.cluster.tasks().map((t) => t.name)).toEqual(["hello-0-server"]);
  });
});

describe("PutService's one queue", () => {
  it("changes the manager and the store only inside a work item of the runner's queue", async () => {
    const h = await createHarness();
    let unblock = (): void => undefined;
    const blocking = h.scheduler.runner.queue.run("test-block", () => new Promise<void>((r) => (unblock = r)));
    const put = h.scheduler.putService({ name: "hello", spec: SIMPLE, parameters: {} });
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(h.scheduler.listServices()).toEqual([]);
    expect(await h.persister.children("ServiceList")).toEqual([]);
    unblock();
    await blocking;
    expect((await put).outcome).toBe("CREATED");
    expect(h.scheduler.listServices().map((s) => s.name)).toEqual(["hello"]);
  });

  it("checks again after the build: a lock lost meanwhile refuses the put and stores nothing", async () => {
    const held = heldFactory();
    let holds = true;
    const fence: WriteFence = { holds: () => holds };
    const h = await createHarness({ fence, deps: { factory: held.factory } });
    const before = await dumpStore(h.persister);
    const put = h.scheduler.putService({ name: "hello", spec: SIMPLE, parameters: {} });
    await until(() => held.waiting() === 1);
    holds = false;
    held.release();
    await expect(put).rejects.toMatchObject({ code: "unavailable" });
    expect(await dumpStore(h.persister)).toEqual(before);
    expect(h.scheduler.listServices()).toEqual([]);
  });
});
