import { describe, expect, it } from "vitest";
import { SchedulerError } from "../../src/domain/errors.js";
import { FaultInjectingPersister } from "../../src/adapters/persister/fault-injecting-persister.js";
import { MemoryPersister } from "../../src/adapters/persister/memory-persister.js";
import { describePersisterContract } from "./persister-contract.js";

describePersisterContract("MemoryPersister", () => Promise.resolve(new MemoryPersister()));
describePersisterContract("FaultInjectingPersister without faults", () =>
  Promise.resolve(new FaultInjectingPersister(new MemoryPersister())),
);

const data = (s: string): Uint8Array => new TextEncoder().encode(s);

describe("MemoryPersister", () => {
  it("honours a configured value limit exactly", async () => {
    const store = new MemoryPersister({ maxValueBytes: 4 });
    await store.multi([{ kind: "set", path: "ok", data: new Uint8Array(4) }]);
    await expect(
      store.multi([{ kind: "set", path: "big", data: new Uint8Array(5) }]),
    ).rejects.toMatchObject({
      code: "invalid_argument",
    });
  });

  it("accepts exactly 1 MiB by default", async () => {
    const store = new MemoryPersister();
    await store.multi([{ kind: "set", path: "max", data: new Uint8Array(1024 * 1024) }]);
    expect((await store.get("max"))?.data.byteLength).toBe(1024 * 1024);
  });

  it("is unavailable after close", async () => {
    const store = new MemoryPersister();
    await store.close();
    await expect(store.get("a")).rejects.toMatchObject({ code: "unavailable" });
  });
});

describe("FaultInjectingPersister", () => {
  it("fails the k-th write and every later one, counting every write", async () => {
    const inner = new MemoryPersister();
    const store = new FaultInjectingPersister(inner, { failFromWrite: 2 });
    await store.multi([{ kind: "set", path: "a", data: data("1") }]);
    const failed = store.multi([{ kind: "set", path: "b", data: data("2") }]);
    await expect(failed).rejects.toBeInstanceOf(SchedulerError);
    await expect(store.multi([])).rejects.toMatchObject({ code: "unavailable" });
    expect(store.writes).toBe(3);
    expect(store.injectedFailures).toBe(2);
    expect(await inner.get("b")).toBeUndefined();
    expect(await store.get("a")).toEqual({ data: data("1"), version: 0 });
    store.heal();
    await store.multi([{ kind: "set", path: "b", data: data("2") }]);
    expect(await inner.get("b")).toBeDefined();
  });

  it("applies the write before failing in 'after' mode", async () => {
    const inner = new MemoryPersister();
    const store = new FaultInjectingPersister(inner, { failFromWrite: 1, mode: "after" });
    await expect(store.multi([{ kind: "set", path: "a", data: data("1") }])).rejects.toMatchObject({
      code: "unavailable",
    });
    expect(await inner.get("a")).toEqual({ data: data("1"), version: 0 });
  });

  it("leaves the inner store open on close unless told otherwise", async () => {
    const inner = new MemoryPersister();
    await new FaultInjectingPersister(inner).close();
    expect(await inner.get("a")).toBeUndefined();
    await new FaultInjectingPersister(inner, { closeInner: true }).close();
    await expect(inner.get("a")).rejects.toMatchObject({ code: "unavailable" });
  });
});
