/**
 * The deployment limit's discipline and stored selection on their own, case by case as the
 * reference's ParallelFootprintDisciplineTest and DisciplineSelectionStoreTest (dcos-commons §1.4),
 * plus what Corral adds: arrival order, a failed status keeps its place, a slot counts once stored.
 */
import pino from "pino";
import { describe, expect, it } from "vitest";
import { FaultInjectingPersister } from "../../src/adapters/persister/fault-injecting-persister.js";
import { MemoryPersister } from "../../src/adapters/persister/memory-persister.js";
import type { Offer, Resource } from "../../src/domain/cluster.js";
import { LABEL_NAMESPACE } from "../../src/domain/cluster.js";
import { DeployLimit, ownReservations } from "../../src/engine/deploy-limit.js";
import type { Persister } from "../../src/engine/ports.js";
import { decodeText, encodeText } from "../../src/engine/store/codec.js";
import { SELECTED_SERVICES } from "../../src/engine/store/layout.js";
import { SelectionStore } from "../../src/engine/store/selection-store.js";

const log = pino({ level: "silent" });

async function storedText(p: Persister): Promise<string | undefined> {
  const v = await p.get(SELECTED_SERVICES);
  return v && decodeText(v.data);
}

async function limitOf(limit: number, persister: Persister = new MemoryPersister(), stored?: string): Promise<{ d: DeployLimit; persister: Persister }> {
  if (stored !== undefined) await persister.multi([{ kind: "set", path: SELECTED_SERVICES, data: encodeText(stored) }]);
  const d = new DeployLimit(limit, new SelectionStore(persister), log);
  await d.load();
  return { d, persister };
}

/** One round and its write: `footprint` names want footprint, `launch` names do not. */
async function round(d: DeployLimit, footprint: readonly string[], launch: readonly string[] = [], failed: readonly string[] = []): Promise<string[]> {
  const all = [...footprint, ...launch, ...failed].sort();
  d.round(new Map(all.map((n) => [n, failed.includes(n) ? undefined : footprint.includes(n)])));
  await d.persist();
  return footprint.filter((n) => d.waitReason(n) === undefined);
}

describe("SelectionStore", () => {
  it("reads a missing or empty node as no service, and names joined with __ (testFetchEmpty, testRootPathMapping)", async () => {
    const p = new MemoryPersister();
    const store = new SelectionStore(p);
    expect(await store.fetch()).toEqual([]);
    await p.multi([{ kind: "set", path: SELECTED_SERVICES, data: new Uint8Array() }]);
    expect(await store.fetch()).toEqual([]);
    expect(await store.store(["foo", "/path/to/bar"])).toBe(true);
    expect(await storedText(p)).toBe("foo__/path/to/bar");
    expect(await new SelectionStore(p).fetch()).toEqual(["foo", "/path/to/bar"]);
  });

  it("skips a write of the set it last read or wrote (testStoreNoChange)", async () => {
    const p = new FaultInjectingPersister(new MemoryPersister());
    const store = new SelectionStore(p);
    expect(await store.store([])).toBe(true);
    expect(await store.store([])).toBe(false);
    expect(await store.store(["a", "b"])).toBe(true);
    expect(await store.store(["b", "a"])).toBe(false);
    expect(await store.store(["a"])).toBe(true);
    expect(await store.store([])).toBe(true);
    expect(p.writes).toBe(4);
    const reread = new SelectionStore(p);
    await reread.fetch();
    expect(await reread.store([])).toBe(false);
  });
});

describe("DeployLimit", () => {
  it("admits nobody before the stored slots were read, and retries a failed read (testMissingUpdate)", async () => {
    const p = new MemoryPersister();
    const failing: Persister = { ...p, get: () => Promise.reject(new Error("unreachable")), multi: (ops) => p.multi(ops), children: (x) => p.children(x), close: () => p.close() };
    const d = new DeployLimit(1, new SelectionStore(failing), log);
    await d.load();
    expect(await round(d, ["a"])).toEqual([]);
    expect(d.waitReason("a")).toBe("waiting for a deploy slot: the stored slots are not read yet");
    const ok = new DeployLimit(1, new SelectionStore(p), log);
    ok.round(new Map([["a", true]]));
    await ok.load();
    expect(await round(ok, ["a"])).toEqual(["a"]);
  });

  it("one slot: the first wins, the others wait and may launch; a removed holder frees it (testSingleSlot)", async () => {
    const { d, persister } = await limitOf(1);
    expect(await round(d, ["1", "2", "3"])).toEqual(["1"]);
    expect(d.waitReason("2")).toBe("waiting for a deploy slot: 1 of 1 held by 1");
    expect(await storedText(persister)).toBe("1");
    // 2 launches into its own footprint: allowed, it wants no slot.
    expect(await round(d, ["1", "3"], ["2"])).toEqual(["1"]);
    // 1 is removed (no longer listed).
    expect(await round(d, ["2", "3"])).toEqual(["3"]);
    expect(await storedText(persister)).toBe("3");
  });

  it.each([
    { name: "stops wanting footprint (LAUNCH, IDLE, being removed)", listed: true },
    { name: "is gone", listed: false },
  ])("a holder that $name releases its slot to the next in line (testNotReservingStates)", async ({ listed }) => {
    const { d } = await limitOf(1);
    expect(await round(d, ["a", "b"])).toEqual(["a"]);
    expect(await round(d, ["b"], listed ? ["a"] : [])).toEqual(["b"]);
    expect(d.holders()).toEqual(["b"]);
  });

  it("admits in the order services started wanting footprint, not by name", async () => {
    const { d } = await limitOf(1);
    expect(await round(d, ["m"])).toEqual(["m"]);
    await round(d, ["m", "z"]);
    await round(d, ["m", "z", "a"]);
    expect(await round(d, ["z", "a"], ["m"])).toEqual(["z"]);
    expect(await round(d, ["a"], ["z"])).toEqual(["a"]);
  });

  it("a service whose status failed keeps its slot or its place", async () => {
    const { d } = await limitOf(1);
    expect(await round(d, ["a", "b"])).toEqual(["a"]);
    expect(await round(d, ["b"], [], ["a"])).toEqual([]);
    expect(d.holders()).toEqual(["a"]);
  });

  it.each([
    { limit: 1, stored: "2", holders: ["2"] },
    { limit: 2, stored: "2__3", holders: ["2", "3"] },
  ])("limit $limit: the stored selection is honoured after a restart (testSingleSlotStartsOccupied, testMultiSlotStartsOccupied)", async ({ limit, stored, holders }) => {
    const { d } = await limitOf(limit, new MemoryPersister(), stored);
    expect(await round(d, ["1", "2", "3"])).toEqual(holders);
    expect(await round(d, ["1", "3"], ["2"])).toEqual(limit === 1 ? ["1"] : ["1", "3"]);
  });

  it.each([
    { limit: 1, stored: "2__3", pruned: "2" },
    { limit: 2, stored: "2__3__4", pruned: "2" },
  ])("limit $limit: stored names of unknown services are pruned and stored (testSingleSlotUnknownStored, testMultiSlotUnknownStored)", async ({ limit, stored, pruned }) => {
    const { d, persister } = await limitOf(limit, new MemoryPersister(), stored);
    await round(d, ["2"], ["1"]);
    expect(await storedText(persister)).toBe(pruned);
  });

  it("two slots: a third waits until one leaves; a removed service's slot is revoked and stored (testMultiSlot)", async () => {
    const { d, persister } = await limitOf(2);
    expect(await round(d, ["1", "2", "3"])).toEqual(["1", "2"]);
    expect(d.waitReason("3")).toBe("waiting for a deploy slot: 2 of 2 held by 1, 2");
    expect(await round(d, ["2", "3"])).toEqual(["2", "3"]);
    expect(await storedText(persister)).toBe("2__3");
  });

  it("raising the limit admits more; lowering it evicts nobody, and gives slots once fewer hold one (testSlotIncreaseDecrease)", async () => {
    const persister = new MemoryPersister();
    const one = (await limitOf(1, persister)).d;
    expect(await round(one, ["1", "2", "3"])).toEqual(["1"]);
    const two = (await limitOf(2, persister)).d;
    expect(await round(two, ["1", "2", "3"])).toEqual(["1", "2"]);
    const lowered = (await limitOf(1, persister)).d;
    expect(await round(lowered, ["1", "2", "3"])).toEqual(["1", "2"]);
    expect(lowered.waitReason("3")).toBe("waiting for a deploy slot: 2 of 1 held by 1, 2");
    expect(await round(lowered, ["2", "3"], ["1"])).toEqual(["2"]);
    expect(await round(lowered, ["3"], ["2"])).toEqual(["3"]);
  });

  it("a service admitted acquires only once its slot is stored; a failed write is retried", async () => {
    const p = new FaultInjectingPersister(new MemoryPersister());
    const { d } = await limitOf(1, p);
    p.failFromWrite(1);
    expect(await round(d, ["a"])).toEqual([]);
    expect(d.waitReason("a")).toBe("waiting for a deploy slot: storing its slot");
    p.heal();
    expect(await round(d, ["a"])).toEqual(["a"]);
    expect(await storedText(p)).toBe("a");
  });

  it("names at most three holders", async () => {
    const { d } = await limitOf(4);
    await round(d, ["a", "b", "c", "d", "e"]);
    expect(d.waitReason("e")).toBe("waiting for a deploy slot: 4 of 4 held");
  });
});

describe("ownReservations", () => {
  const reserved = (ns: string, name: string): Resource => ({
    name,
    type: "SCALAR",
    scalar: 1,
    reservations: [{ type: "DYNAMIC", role: "r", labels: { [LABEL_NAMESPACE]: ns } }],
  });
  const offer = (id: string, resources: Resource[]): Offer => ({ id, frameworkId: "f", agentId: `agent-${id}`, hostname: "h", resources });

  it("splits offers by the namespace of their reservations and keeps of the unreserved only one executor's share", () => {
    const free: Resource = { name: "cpus", type: "SCALAR", scalar: 8 };
    const own = ownReservations([offer("o1", [free, reserved("a", "cpus"), reserved("b", "mem")]), offer("o2", [free]), offer("o3", [reserved("a", "mem")])]);
    expect([...own.keys()].sort()).toEqual(["a", "b"]);
    expect(own.get("a")!.map((o) => [o.id, o.agentId, o.resources.map((r) => [r.name, r.reservations ? "reserved" : r.scalar])])).toEqual([
      ["o1", "agent-o1", [["cpus", "reserved"], ["cpus", 0.01]]],
      ["o3", "agent-o3", [["mem", "reserved"]]],
    ]);
    expect(own.get("b")!.map((o) => o.resources.length)).toEqual([2]);
  });
});
