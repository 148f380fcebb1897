/**
 * A working service called with no offers while nothing changed answers as it did the last time
 * without deciding again (most services get no offer in a cycle): what it answers must still be
 * what deciding would say.
 */
import { readFileSync } from "node:fs";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { FakeClock, SeededRandom } from "../../src/adapters/fake-clock.js";
import { MemoryPersister } from "../../src/adapters/persister/memory-persister.js";
import type { Offer } from "../../src/domain/cluster.js";
import { specServiceFactory } from "../../src/engine/service-factory.js";
import { ServiceScheduler } from "../../src/engine/service-scheduler.js";
import { StateStore } from "../../src/engine/store/state-store.js";

const HELLO = readFileSync(new URL("../../examples/hello-world.yml", import.meta.url), "utf8");
const TINY: Offer = { id: "o1", frameworkId: "fw-1", agentId: "a1", hostname: "a1", resources: [{ name: "cpus", type: "SCALAR", scalar: 0.01 }] };

function service(): ServiceScheduler {
  const built = specServiceFactory.build({ name: "hello", spec: HELLO, parameters: {}, generation: 1, createdMs: 0, updatedMs: 0 });
  const deps = {
    store: new StateStore(new MemoryPersister(), "hello"),
    random: new SeededRandom(1),
    clock: new FakeClock(),
    log: pino({ level: "silent" }),
    framework: { name: "corral", role: "corral-role", principal: "corral-principal" },
  };
  const svc = new ServiceScheduler(built, "config-1", deps);
  svc.registered("fw-1");
  return svc;
}

const firstStep = (svc: ServiceScheduler) => svc.allPlans().find((p) => p.name === "deploy")!.phases[0]!.steps[0]!;

describe("a service offered nothing", () => {
  it("waits for offers, cycle after cycle, and says so again after an offer it could not use", async () => {
    const svc = service();
    expect(svc.status()).toMatchObject({ kind: "WORKING" });
    for (let cycle = 0; cycle < 2; cycle++) {
      svc.status();
      expect(await svc.offers([])).toMatchObject({ ready: true, unplaced: 1 });
      expect(firstStep(svc)).toMatchObject({ status: "PREPARED", message: "waiting for offers" });
    }
    svc.status();
    expect(await svc.offers([TINY])).toMatchObject({ unplaced: 1 });
    expect(firstStep(svc).message).not.toBe("waiting for offers");
    svc.status();
    expect(await svc.offers([])).toMatchObject({ ready: true, unplaced: 1 });
    expect(firstStep(svc).message).toBe("waiting for offers");
  });
});
