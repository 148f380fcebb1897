/**
 * Offer-cycle isolation on the simulated cluster (issue 12, item 2): a service whose decision
 * throws, or whose ACCEPT the cluster refuses, affects that service only. The others deploy in
 * the same cycles, garbage is still released, offers are still declined and revived/suppressed,
 * and the service that failed retries later and completes.
 */
import { describe, expect, it } from "vitest";
import { LABEL_NAMESPACE } from "../../src/domain/cluster.js";
import type { Offer, Operation } from "../../src/domain/cluster.js";
import { MemoryPersister } from "../../src/adapters/persister/memory-persister.js";
import type { ManagedService } from "../../src/engine/managed-service.js";
import type { CycleOutcome } from "../../src/engine/offer-cycle.js";
import type { Logger } from "../../src/engine/ports.js";
import { parseTaskId } from "../../src/domain/task-id.js";
import { createHarness } from "../harness/harness.js";
import type { Harness } from "../harness/harness.js";

interface Record_ {
  readonly level: string;
  readonly obj: Record<string, unknown>;
  readonly msg: string | undefined;
}

function recordingLogger(records: Record_[]): Logger {
  const at =
    (level: string) =>
    (obj: object, msg?: string): void => {
      records.push({ level, obj: obj as Record<string, unknown>, msg });
    };
  const log: Logger = { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error"), child: () => log };
  return log;
}

/** The service as the offer cycle sees it, with the hooks the test wraps. */
function cycleService(h: Harness, name: string): ManagedService {
  const svc = h.scheduler.manager.get(name);
  if (!svc) throw new Error(`no service ${name}`);
  return svc;
}

/** Records `cycleFailed` and `acceptRefused` calls, passing them on to the service's own. */
function spyOnService(svc: ManagedService): { failed: string[]; refused: string[] } {
  const calls = { failed: [] as string[], refused: [] as string[] };
  const cycleFailed = svc.cycleFailed.bind(svc);
  const acceptRefused = svc.acceptRefused.bind(svc);
  svc.cycleFailed = (error) => {
    calls.failed.push(error);
    cycleFailed(error);
  };
  svc.acceptRefused = (offerId, reason) => {
    calls.refused.push(offerId);
    acceptRefused(offerId, reason);
  };
  return calls;
}

const launchedServices = (ops: readonly Operation[]): string[] =>
  ops.flatMap((op) => (op.type === "LAUNCH_GROUP" ? op.tasks.map((t) => parseTaskId(t.taskId).service ?? "") : []));

const reservedBy = (h: Harness, ns: string): number =>
  [...h.cluster.reservations().values()].flat().filter((r) => r.reservations?.at(-1)?.labels[LABEL_NAMESPACE] === ns).length;

describe("offer-cycle isolation", () => {
  it("a service whose evaluation throws is logged and retried; the others deploy and garbage is released in the same cycles", async () => {
    // Garbage: the reservations of a service a previous incarnation ran and this store does not know.
    const first = await createHarness({ agents: 4 });
    await first.put("gone", "simple.yml");
    await first.deployAll(["gone"]);
    await first.scheduler.stop();
    expect(reservedBy(first, "gone")).toBeGreaterThan(0);
    const persister = new MemoryPersister();
    await persister.multi([{ kind: "set", path: "FrameworkID", data: (await first.persister.get("FrameworkID"))!.data }]);

    const records: Record_[] = [];
    const cycles: CycleOutcome[] = [];
    const h = await createHarness({
      cluster: first.cluster,
      clock: first.clock,
      persister,
      deps: { log: recordingLogger(records), onCycle: (o) => cycles.push(o) },
    });
    await h.put("bad", "simple.yml");
    const bad = cycleService(h, "bad");
    const spy = spyOnService(bad);
    const offers = bad.offers.bind(bad);
    let throwing = true;
    let calls = 0;
    bad.offers = (o: readonly Offer[]) => {
      calls++;
      if (throwing) throw new Error("evaluation exploded");
      return offers(o);
    };
    await h.put("a", "hello-world.yml");
    await h.put("b", "simple.yml");
    await h.deployAll(["a", "b"]);

    expect(calls).toBeGreaterThan(1); // retried every cycle
    // In the very cycles it failed, the others launched and the garbage was released.
    expect(cycles.some((c) => c.failed === 1 && c.accepted > c.collected)).toBe(true);
    expect(cycles.some((c) => c.failed === 1 && c.collected > 0)).toBe(true);
    expect(h.deployStatus("bad")).not.toBe("COMPLETE");
    expect(h.cluster.tasks().filter((t) => t.taskId.startsWith("bad__"))).toHaveLength(0);
    expect(spy.failed.length).toBe(calls);
    expect(spy.failed[0]).toBe("evaluation exploded");
    const messages = h.scheduler.getPlan("bad", "deploy").phases.flatMap((p) => p.steps.map((st) => st.message));
    expect(messages).toEqual(["offer cycle failed: evaluation exploded"]);
    const logged = records.filter((r) => r.level === "error" && r.obj["service"] === "bad");
    expect(logged.length).toBe(calls);
    expect(String(logged[0]!.obj["err"])).toMatch(/evaluation exploded/);
    expect(records.some((r) => r.obj["service"] !== undefined && r.obj["service"] !== "bad" && r.level === "error")).toBe(false);
    // The previous incarnation's task was killed and its reservations released meanwhile.
    expect(h.cluster.tasks().filter((t) => t.taskId.startsWith("gone__"))).toHaveLength(0);
    await h.advance(10_000);
    expect(reservedBy(h, "gone")).toBe(0);
    // Unused offers were declined short (the failing service wants them again), and it kept the
    // scheduler from suppressing.
    const suppressesWhileFailing = h.cluster.counts.suppresses;
    await h.advance(30_000);
    expect(h.cluster.counts.suppresses).toBe(suppressesWhileFailing);
    expect(h.cluster.counts.declines).toBeGreaterThan(0);

    throwing = false;
    await h.deployAll(["bad"]);
    expect(h.cluster.tasks().filter((t) => t.taskId.startsWith("bad__"))).toHaveLength(1);
    // With every service idle, offers are suppressed again.
    await h.advance(10_000);
    expect(h.cluster.counts.suppresses).toBeGreaterThan(suppressesWhileFailing);
  });

  it("an ACCEPT the cluster refuses concerns only the service that launched on the offer, which retries and completes", async () => {
    const records: Record_[] = [];
    const cycles: CycleOutcome[] = [];
    const h = await createHarness({ agents: 3, deps: { log: recordingLogger(records), onCycle: (o) => cycles.push(o) } });
    const accept = h.cluster.accept.bind(h.cluster);
    let refusedOffer: string | undefined;
    let refusedTasks: string[] = [];
    h.cluster.accept = async (offerIds, ops, filters) => {
      if (refusedOffer === undefined && launchedServices(ops).includes("bad")) {
        refusedOffer = offerIds[0];
        refusedTasks = ops.flatMap((op) => (op.type === "LAUNCH_GROUP" ? op.tasks.map((t) => t.taskId) : []));
        throw new Error("connection reset");
      }
      return accept(offerIds, ops, filters);
    };
    await h.put("bad", "simple.yml");
    await h.put("a", "hello-world.yml");
    await h.put("b", "simple.yml");
    const spy = spyOnService(cycleService(h, "bad"));
    const revivesBefore = h.cluster.counts.revives;
    await h.deployAll(["a", "b", "bad"]);

    expect(refusedOffer).toBeDefined();
    expect(spy.refused).toEqual([refusedOffer]);
    // Only the refused offer's ACCEPT failed, in one cycle; it told exactly the services whose
    // operations it carried (several services launch from one offer), "bad" among them.
    const refusing = cycles.filter((c) => c.refused > 0);
    expect(refusing).toHaveLength(1);
    expect(refusing[0]!.refused).toBe(1);
    const warned = records.find((r) => r.level === "warn" && r.obj["offerId"] === refusedOffer);
    expect(warned?.obj["services"]).toContain("bad");
    const carried = new Set(refusedTasks.map((id) => id.split("__")[0]));
    expect(new Set(warned?.obj["services"] as string[])).toEqual(carried);
    // The refused launch never ran; the service launched again, on a later offer.
    const running = h.cluster.tasks().map((t) => t.taskId);
    for (const id of refusedTasks) expect(running).not.toContain(id);
    expect(running.filter((id) => id.startsWith("bad__"))).toHaveLength(1);
    expect(running.filter((id) => id.startsWith("a__"))).toHaveLength(3);
    expect(running.filter((id) => id.startsWith("b__"))).toHaveLength(1);
    expect(h.cluster.counts.revives).toBeGreaterThan(revivesBefore);
    await h.advance(10_000);
    expect(h.cluster.counts.suppresses).toBeGreaterThan(0);
  });
});
