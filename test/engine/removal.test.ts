/**
 * Removing services on the simulated cluster with a fake clock: the uninstall plan kills,
 * releases and deregisters; a restart mid-removal finishes it with one COMPLETED event; the
 * forced path; garbage collection of what a forced removal left; whole-scheduler uninstall.
 */
import { describe, expect, it } from "vitest";
import { LABEL_NAMESPACE, LABEL_RESOURCE_ID } from "../../src/domain/cluster.js";
import { removalPath } from "../../src/engine/service-removal.js";
import type { UninstallEventView } from "../../src/engine/admin-api.js";
import { decodeJson, encodeJson } from "../../src/engine/store/codec.js";
import { MemoryPersister } from "../../src/adapters/persister/memory-persister.js";
import type { Persister } from "../../src/engine/ports.js";
import { createHarness } from "../harness/harness.js";
import type { Harness } from "../harness/harness.js";

function namespaces(h: Harness): Set<string> {
  const out = new Set<string>();
  for (const rs of h.cluster.reservations().values()) {
    for (const r of rs) {
      const ns = r.reservations?.at(-1)?.labels[LABEL_NAMESPACE];
      if (ns) out.add(ns);
    }
  }
  return out;
}

/** Every event of the log from the start, without waiting for more. */
async function eventsSoFar(h: Harness): Promise<UninstallEventView[]> {
  const ac = new AbortController();
  const out: UninstallEventView[] = [];
  const it = h.scheduler.watchUninstall([], 0n, ac.signal)[Symbol.asyncIterator]();
  for (;;) {
    const next = await Promise.race([it.next(), new Promise<"idle">((r) => setImmediate(() => r("idle")))]);
    if (next === "idle" || next.done) break;
    out.push(next.value);
  }
  ac.abort();
  return out;
}

async function expectWiped(h: Harness): Promise<void> {
  for (const root of ["ServiceList", "Services", "UninstallEvents", "PlanEvents"]) expect(await h.persister.children(root)).toEqual([]);
  for (const node of ["SchemaVersion", "FrameworkID", "UninstallEvents", "PlanEvents", "SelectedServices"]) expect(await h.persister.get(node)).toBeUndefined();
}

async function untilGone(h: Harness, name: string, maxSteps = 60): Promise<void> {
  for (let i = 0; i < maxSteps; i++) {
    if (!h.scheduler.listServices().some((s) => s.name === name)) return;
    await h.advance(1000);
  }
  throw new Error(`${name} was not removed: ${JSON.stringify(h.scheduler.getPlan(name, ""))}`);
}

/**
 * Removes "simple" while the cluster refuses every ACCEPT releasing reservations, until one was
 * refused; returns what makes the cluster accept them again.
 */
async function refuseTheRelease(h: Harness): Promise<() => void> {
  const accept = h.cluster.accept.bind(h.cluster);
  let refused = 0;
  h.cluster.accept = async (offerIds, ops, filters) => {
    if (ops.some((op) => op.type === "UNRESERVE" || op.type === "DESTROY")) {
      refused++;
      throw new Error("socket hang up");
    }
    return accept(offerIds, ops, filters);
  };
  await h.scheduler.uninstallService("simple");
  for (let i = 0; i < 20 && refused === 0; i++) await h.advance(100);
  expect(refused).toBeGreaterThan(0);
  return () => {
    h.cluster.accept = accept;
  };
}

describe("service removal", () => {
  it("kills the tasks, releases the reservations and volumes, removes the stored state, and leaves other services alone", async () => {
    const h = await createHarness();
    await h.put("hello", "hello-world.yml");
    await h.put("simple", "simple.yml");
    await h.deployAll(["hello", "simple"]);
    const helloTasks = h.cluster.tasks().filter((t) => t.taskId.startsWith("hello__")).map((t) => t.taskId);
    expect(namespaces(h)).toEqual(new Set(["hello", "simple"]));

    const view = await h.scheduler.uninstallService("simple");
    expect(view.state).toBe("UNINSTALLING");
    expect(h.scheduler.getPlan("simple", "").name).toBe("uninstall");
    // Idempotent, and the name cannot be put again meanwhile.
    expect((await h.scheduler.uninstallService("simple")).state).toBe("UNINSTALLING");
    await expect(h.put("simple", "simple.yml")).rejects.toMatchObject({ code: "failed_precondition" });

    await untilGone(h, "simple");
    expect(h.cluster.tasks().map((t) => t.taskId)).toEqual(helloTasks);
    expect(namespaces(h)).toEqual(new Set(["hello"]));
    expect(await h.persister.children("Services")).toEqual(["hello"]);
    expect(await h.persister.children("ServiceList")).toEqual(["hello"]);
    const events = (await eventsSoFar(h)).filter((e) => e.name === "simple");
    expect(events[0]?.kind).toBe("STARTED");
    expect(events.at(-1)).toMatchObject({ kind: "COMPLETED", stepsComplete: events.at(-1)!.stepsTotal });
    expect(events.filter((e) => e.kind === "COMPLETED")).toHaveLength(1);
    // PROGRESS only when a step completed: steps complete strictly grow along the events.
    const counts = events.map((e) => e.stepsComplete);
    for (let i = 1; i < counts.length; i++) expect(counts[i]!).toBeGreaterThan(counts[i - 1]!);
    // Sequence numbers only go up.
    expect(events.map((e) => e.sequence)).toEqual([...events.map((e) => e.sequence)].sort((a, b) => (a < b ? -1 : 1)));
    await expect(h.scheduler.uninstallService("simple")).rejects.toMatchObject({ code: "not_found" });
    // Once removed, the name is free again.
    await h.put("simple", "simple.yml");
    await h.deployAll(["simple"]);
  });

  it("removes a service whose deploy is still under way, and one that never got a task", async () => {
    const h = await createHarness({ agents: [{ cpus: 0.05 }] }); // nothing fits: no task ever launches
    await h.put("stuck", "simple.yml");
    await h.advance(1000);
    expect(h.deployStatus("stuck")).not.toBe("COMPLETE");
    await h.scheduler.uninstallService("stuck");
    await untilGone(h, "stuck");
    const events = (await eventsSoFar(h)).map((e) => e.kind);
    expect(events).toEqual(["STARTED", "COMPLETED"]);
  });

  it("finishes a removal interrupted by a restart after the kills and before the releases, with exactly one COMPLETED event", async () => {
    const first = await createHarness();
    await first.put("hello", "hello-world.yml");
    await first.deployAll(["hello"]);
    // Offers stop coming, so the kills complete but no reservation is released yet.
    await first.cluster.suppress();
    const revive = first.cluster.revive.bind(first.cluster);
    first.cluster.revive = async () => undefined;
    await first.scheduler.uninstallService("hello");
    for (let i = 0; i < 20 && first.cluster.tasks().length > 0; i++) await first.advance(100);
    expect(first.cluster.tasks()).toHaveLength(0);
    const plan = first.scheduler.getPlan("hello", "uninstall");
    expect(plan.phases[0]!.status).toBe("COMPLETE");
    expect(plan.phases[1]!.status).not.toBe("COMPLETE");
    await first.scheduler.stop();
    first.cluster.revive = revive;

    expect(namespaces(first)).toEqual(new Set(["hello"]));
    const second = await createHarness({ cluster: first.cluster, clock: first.clock, persister: first.persister });
    await untilGone(second, "hello");
    expect(namespaces(second)).toEqual(new Set());
    const kinds = (await eventsSoFar(second)).map((e) => e.kind);
    expect(kinds.filter((k) => k === "STARTED")).toHaveLength(1); // resumed, not started again
    expect(kinds.filter((k) => k === "COMPLETED")).toHaveLength(1);
    expect(kinds.at(-1)).toBe("COMPLETED");
    expect(await second.persister.children("Services")).toEqual([]);
  });

  it("forces a removal that outlives its timeout, says what it left, and collects that later", async () => {
    const h = await createHarness({ scheduler: { removalTimeoutMs: 30_000 } });
    await h.put("simple", "simple.yml");
    await h.deployAll(["simple"]);
    const [task] = h.cluster.tasks();
    h.cluster.crashAgent(task!.agentId); // the agent never offers its reservations again
    await h.scheduler.uninstallService("simple");
    await h.advance(29_000);
    expect(h.scheduler.getService("simple").state).toBe("UNINSTALLING");
    await h.advance(2_000);
    expect(h.scheduler.listServices()).toEqual([]);
    const forced = (await eventsSoFar(h)).at(-1)!;
    expect(forced.kind).toBe("FORCED");
    expect(forced.leftovers.some((l) => l.startsWith("reservation "))).toBe(true);
    expect(namespaces(h)).toEqual(new Set(["simple"]));
    // The agent comes back: the reservations of a service no one knows are released, with no service working.
    h.cluster.recoverAgent(task!.agentId);
    await h.advance(61_000); // the next probe for leftovers
    expect(namespaces(h)).toEqual(new Set());
  });

  it("a stored deadline survives a restart: the clock does not start again", async () => {
    const first = await createHarness({ scheduler: { removalTimeoutMs: 30_000 } });
    await first.put("simple", "simple.yml");
    await first.deployAll(["simple"]);
    first.cluster.crashAgent(first.cluster.tasks()[0]!.agentId);
    await first.scheduler.uninstallService("simple");
    await first.advance(20_000);
    await first.scheduler.stop();
    const second = await createHarness({ cluster: first.cluster, clock: first.clock, persister: first.persister, scheduler: { removalTimeoutMs: 30_000 } });
    await second.advance(11_000);
    expect(second.scheduler.listServices()).toEqual([]);
    expect((await eventsSoFar(second)).at(-1)?.kind).toBe("FORCED");
  });

  it("removes a quarantined service: its tasks are killed and its reservations released only now", async () => {
    const first = await createHarness();
    await first.put("simple", "simple.yml");
    await first.deployAll(["simple"]);
    await first.scheduler.stop();
    const path = "ServiceList/simple/Context";
    const ctx = decodeJson<Record<string, unknown>>((await first.persister.get(path))!.data);
    await first.persister.multi([{ kind: "set", path, data: encodeJson({ ...ctx, spec: "name: simple\npods: {}" }) }]);
    const second = await createHarness({ cluster: first.cluster, clock: first.clock, persister: first.persister });
    expect(second.scheduler.getService("simple").state).toBe("QUARANTINED");
    expect(second.cluster.tasks()).toHaveLength(1);
    await second.scheduler.uninstallService("simple");
    await untilGone(second, "simple");
    expect(second.cluster.tasks()).toEqual([]);
    expect(namespaces(second)).toEqual(new Set());
  });

  it("tries the final write again when it fails, and completes once it lands", async () => {
    const inner = new MemoryPersister();
    let failFinal = 1;
    const flaky: Persister = {
      get: (p) => inner.get(p),
      children: (p) => inner.children(p),
      getMany: (ps) => Promise.all(ps.map((p) => inner.get(p))),
      multi: async (ops) => {
        if (failFinal > 0 && ops.some((op) => op.kind === "delete" && op.path === "Services/simple")) {
          failFinal--;
          throw new Error("store unreachable");
        }
        await inner.multi(ops);
      },
      close: () => inner.close(),
    };
    const h = await createHarness({ persister: flaky });
    await h.put("simple", "simple.yml");
    await h.deployAll(["simple"]);
    await h.scheduler.uninstallService("simple");
    await h.advance(1000);
    expect(failFinal).toBe(0); // the final write was tried and failed
    expect(h.scheduler.getService("simple").state).toBe("UNINSTALLING");
    await h.advance(6000);
    expect(h.scheduler.listServices()).toEqual([]);
    expect((await eventsSoFar(h)).filter((e) => e.kind === "COMPLETED")).toHaveLength(1);
  });

  it("completes after the cluster refused the release ACCEPTs and the subscription came back (chaos seed 4243)", async () => {
    const h = await createHarness();
    await h.put("simple", "simple.yml");
    await h.deployAll(["simple"]);
    // The agent dies while the release leaves: every ACCEPT carrying it fails, the subscription drops.
    const accepting = await refuseTheRelease(h);
    accepting();
    h.cluster.disconnect("agent killed", 1000);
    await untilGone(h, "simple");
    expect(namespaces(h)).toEqual(new Set());
    const kinds = (await eventsSoFar(h)).map((e) => e.kind);
    expect(kinds.filter((k) => k === "COMPLETED")).toHaveLength(1);
    expect(await h.persister.children("Services")).toEqual([]);
  });

  it("releases what the cluster refused to release though the scheduler restarted before trying again", async () => {
    const first = await createHarness();
    await first.put("simple", "simple.yml");
    await first.deployAll(["simple"]);
    const accepting = await refuseTheRelease(first);
    await first.scheduler.stop();
    accepting();
    // The store says released what the cluster still holds: the write went before the ACCEPT.
    const stored = decodeJson<{ released: string[] }>((await first.persister.get(removalPath("simple")))!.data);
    const held = [...first.cluster.reservations().values()].flat().map((r) => r.reservations?.at(-1)?.labels[LABEL_RESOURCE_ID]);
    expect(stored.released.filter((id) => held.includes(id))).not.toEqual([]);

    const second = await createHarness({ cluster: first.cluster, clock: first.clock, persister: first.persister });
    await untilGone(second, "simple");
    for (let i = 0; i < 10 && namespaces(second).size > 0; i++) await second.advance(1000);
    expect(namespaces(second)).toEqual(new Set());
    expect(first.cluster.reservations().size).toBe(0);
    expect((await eventsSoFar(second)).filter((e) => e.kind === "COMPLETED")).toHaveLength(1);
  });

  it("calls the library's UninstallCallback once, after the final write", async () => {
    const seen: [string, string][] = [];
    const h = await createHarness({ deps: { onServiceRemoved: (name, event) => seen.push([name, event.kind]) } });
    await h.put("simple", "simple.yml");
    await h.deployAll(["simple"]);
    await h.scheduler.uninstallService("simple");
    await untilGone(h, "simple");
    expect(seen).toEqual([["simple", "COMPLETED"]]);
  });
});

describe("every removal of a name is its own removal", () => {
  /** Events of a watch until it ends, or until `signal` aborts. */
  async function collect(events: AsyncIterable<UninstallEventView>): Promise<UninstallEventView[]> {
    const out: UninstallEventView[] = [];
    for await (const e of events) out.push(e);
    return out;
  }

  /** Strips what a store written before removal ids lacks: the ids on the events and on the Removal record. */
  async function makeOld(persister: Persister): Promise<void> {
    const strip = async (path: string): Promise<void> => {
      const v = await persister.get(path);
      if (v === undefined) return;
      const { removalId, ...rest } = decodeJson<Record<string, unknown>>(v.data);
      expect(removalId).toBeDefined();
      await persister.multi([{ kind: "set", path, data: encodeJson(rest) }]);
    };
    for (const child of await persister.children("UninstallEvents")) await strip(`UninstallEvents/${child}`);
    await strip("ServiceList/simple/Removal");
  }

  it.each([
    ["a store with removal ids", false],
    ["a store written before removal ids (derived at load)", true],
  ])("put, remove, put, remove with restarts in between: a watch from the start follows the current removal (%s)", async (_, old) => {
    const first = await createHarness();
    await first.put("simple", "simple.yml");
    await first.deployAll(["simple"]);
    await first.scheduler.uninstallService("simple");
    await untilGone(first, "simple");
    await first.scheduler.stop();

    const second = await createHarness({ cluster: first.cluster, clock: first.clock, persister: first.persister });
    await second.put("simple", "simple.yml");
    await second.deployAll(["simple"]);
    // A watch of the service put again waits for its next removal: the finished one does not end it.
    const early = new AbortController();
    const earlyEvents = collect(second.scheduler.watchUninstall(["simple"], 0n, early.signal));
    // Offers stop coming: the kills complete, the releases wait, and the restart comes in between.
    await second.cluster.suppress();
    const revive = second.cluster.revive.bind(second.cluster);
    second.cluster.revive = async () => undefined;
    await second.scheduler.uninstallService("simple");
    for (let i = 0; i < 20 && second.cluster.tasks().length > 0; i++) await second.advance(100);
    expect(second.scheduler.getService("simple").state).toBe("UNINSTALLING");
    await second.scheduler.stop();
    second.cluster.revive = revive;
    early.abort();
    const started = (await earlyEvents)[0]!;
    expect(started).toMatchObject({ kind: "STARTED", removalId: started.sequence });
    expect(decodeJson((await second.persister.get("ServiceList/simple/Removal"))!.data)).toMatchObject({ removalId: started.sequence.toString() });
    if (old) await makeOld(second.persister);

    const third = await createHarness({ cluster: first.cluster, clock: first.clock, persister: first.persister });
    const watched = collect(third.scheduler.watchUninstall(["simple"], 0n, new AbortController().signal));
    await untilGone(third, "simple");
    const current = await watched;
    expect(current[0]).toEqual(started);
    expect(current.at(-1)?.kind).toBe("COMPLETED");
    expect(new Set(current.map((e) => e.removalId))).toEqual(new Set([started.sequence]));

    // Two removals, each its own: one STARTED, one COMPLETED, every event naming its STARTED.
    const byRemoval = new Map<bigint, string[]>();
    for (const e of await eventsSoFar(third)) byRemoval.set(e.removalId!, [...(byRemoval.get(e.removalId!) ?? []), e.kind]);
    expect(byRemoval.size).toBe(2);
    for (const [id, kinds] of byRemoval) {
      expect(id).toBeGreaterThan(0n);
      expect(kinds[0]).toBe("STARTED");
      expect(kinds.at(-1)).toBe("COMPLETED");
      expect(kinds.filter((k) => k === "STARTED" || k === "COMPLETED")).toHaveLength(2);
    }
    // Once gone, a watch from the start replays the latest removal only.
    const replay = await collect(third.scheduler.watchUninstall(["simple"], 0n, new AbortController().signal));
    expect(replay).toEqual(current);
  });
});

describe("whole-scheduler uninstall", () => {
  it("removes every service in parallel, wipes the store, tears the framework down and reports completion", async () => {
    const first = await createHarness();
    await first.put("hello", "hello-world.yml");
    await first.put("simple", "simple.yml");
    await first.deployAll(["hello", "simple"]);
    await first.scheduler.stop();

    let uninstalled = 0;
    const second = await createHarness({
      cluster: first.cluster,
      clock: first.clock,
      persister: first.persister,
      scheduler: { uninstall: true },
      deps: { onUninstalled: () => uninstalled++ },
    });
    expect(second.scheduler.mode).toBe("UNINSTALLING");
    expect(second.scheduler.listServices().map((s) => s.state)).toEqual(["UNINSTALLING", "UNINSTALLING"]);
    await expect(second.put("other", "simple.yml")).rejects.toMatchObject({ code: "failed_precondition" });
    for (let i = 0; i < 60 && second.scheduler.mode !== "UNINSTALLED"; i++) await second.advance(1000);
    expect(second.scheduler.mode).toBe("UNINSTALLED");
    expect(uninstalled).toBe(1);
    expect(first.cluster.tasks()).toEqual([]);
    expect(namespaces(second)).toEqual(new Set());
    await expectWiped(second);
    expect(first.cluster.frameworkId).toBeUndefined(); // torn down
  });

  it("started on a store that never registered, it just wipes and reports completion", async () => {
    let uninstalled = 0;
    const h = await createHarness({ scheduler: { uninstall: true }, deps: { onUninstalled: () => uninstalled++ } });
    expect(h.scheduler.mode).toBe("UNINSTALLED");
    expect(uninstalled).toBe(1);
    await expectWiped(h);
    expect(h.cluster.counts.accepts).toBe(0);
  });
});
