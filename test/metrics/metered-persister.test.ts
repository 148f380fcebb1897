/** The store wrapper: every operation timed by name, failures too, optional members kept as they are. */
import { describe, expect, it } from "vitest";
import { MemoryPersister } from "../../src/adapters/persister/memory-persister.js";
import { createMetrics } from "../../src/adapters/metrics/index.js";
import type { Persister } from "../../src/engine/ports.js";
import { SchedulerError } from "../../src/domain/errors.js";
import { parseExposition, valueOf } from "./exposition.js";

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

async function scrape(part: ReturnType<typeof createMetrics>): Promise<ReturnType<typeof parseExposition>> {
  return parseExposition((await part.metrics.exposition()).body);
}

describe("metered persister", () => {
  it("times get, getMany, children and multi under their own names and answers what the store answers", async () => {
    const part = createMetrics();
    const store = part.wrapPersister(new MemoryPersister());
    await store.multi([{ kind: "set", path: "a/b", data: bytes("x") }]);
    await store.multi([{ kind: "set", path: "a/c", data: bytes("y") }]);
    expect(new TextDecoder().decode((await store.get("a/b"))!.data)).toBe("x");
    expect(await store.get("missing")).toBeUndefined();
    expect((await store.getMany!(["a/b", "nope", "a/c"])).map((v) => v && new TextDecoder().decode(v.data))).toEqual(["x", undefined, "y"]);
    expect(await store.children("a")).toEqual(["b", "c"]);

    const samples = await scrape(part);
    const count = (op: string): number | undefined => valueOf(samples, "corral_store_op_duration_seconds_count", { op });
    expect([count("multi"), count("get"), count("getMany"), count("children")]).toEqual([2, 2, 1, 1]);
    expect(valueOf(samples, "corral_store_op_duration_seconds_bucket", { op: "get", le: "+Inf" })).toBe(2);
  });

  it("times a failed operation and passes its error on unchanged", async () => {
    const part = createMetrics();
    const store = part.wrapPersister(new MemoryPersister());
    await store.multi([{ kind: "create", path: "x", data: bytes("1") }]);
    const err = await store.multi([{ kind: "create", path: "x", data: bytes("2") }]).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(SchedulerError);
    expect((err as SchedulerError).code).toBe("already_exists");
    expect(valueOf(await scrape(part), "corral_store_op_duration_seconds_count", { op: "multi" })).toBe(2);
  });

  it("times a call that throws before it returns a promise", async () => {
    const part = createMetrics();
    const broken: Persister = {
      get: () => {
        throw new SchedulerError("unavailable", "store gone");
      },
      children: async () => [],
      multi: async () => undefined,
      close: async () => undefined,
    };
    expect(() => part.wrapPersister(broken).get("x")).toThrow("store gone");
    expect(valueOf(await scrape(part), "corral_store_op_duration_seconds_count", { op: "get" })).toBe(1);
  });

  it("keeps optional members as they are: absent stays absent, a size limit is forwarded", () => {
    const part = createMetrics();
    const bare: Persister = { get: async () => undefined, children: async () => [], multi: async () => undefined, close: async () => undefined };
    const wrapped = part.wrapPersister(bare);
    expect("getMany" in wrapped).toBe(false);
    expect("maxMultiBytes" in wrapped).toBe(false);
    const limited = part.wrapPersister({ ...bare, maxMultiBytes: 4096 });
    expect(limited.maxMultiBytes).toBe(4096);
    expect(typeof part.wrapPersister(new MemoryPersister()).getMany).toBe("function");
  });
});
