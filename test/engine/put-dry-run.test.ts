/**
 * PutService's dry run: what the put would do (`change`), with nothing stored and nothing run.
 * Simulated cluster, fake clock; the store is compared before and after.
 */
import { describe, expect, it } from "vitest";
import { createHarness, example } from "../harness/harness.js";
import { dumpStore } from "./store-dump.js";

describe("PutService with dryRun", () => {
  it("for a new service: every pod instance added and the deploy plan it would run; nothing stored or launched", async () => {
    const h = await createHarness();
    await h.put("other", "simple.yml");
    await h.deployAll(["other"]);
    const before = await dumpStore(h.persister);
    const launches = h.cluster.counts.launches;
    const result = await h.scheduler.putService({ name: "hello", spec: example("hello-world.yml"), parameters: {}, dryRun: true });
    expect(result).toMatchObject({ outcome: "CREATED", dryRun: true, service: { name: "hello", generation: 1 } });
    expect(result.change).toMatchObject({ added: ["hello-0", "world-0", "world-1"], relaunched: [], decommissioned: [], violations: [] });
    expect(result.change?.plan?.name).toBe("deploy");
    expect(result.change?.plan?.phases.flatMap((p) => p.steps.map((s) => `${s.name}=${s.status}`))).toEqual([
      "hello-0:[server]=PENDING",
      "world-0:[server]=PENDING",
      "world-1:[server]=PENDING",
    ]);
    await h.advance(30_000);
    expect(await dumpStore(h.persister)).toEqual(before);
    expect(h.cluster.counts.launches).toBe(launches);
    expect(h.scheduler.listServices().map((s) => s.name)).toEqual(["other"]);
    expect(() => h.scheduler.getService("hello")).toThrow(expect.objectContaining({ code: "not_found" }) as Error);
  });

  it("for an unchanged service: UNCHANGED, nothing stored", async () => {
    const h = await createHarness();
    await h.put("hello", "simple.yml");
    await h.deployAll(["hello"]);
    const before = await dumpStore(h.persister);
    const result = await h.scheduler.putService({ name: "hello", spec: example("simple.yml"), parameters: {}, dryRun: true });
    expect(result).toMatchObject({ outcome: "UNCHANGED", dryRun: true, service: { generation: 1 } });
    expect(result.change).toMatchObject({ added: [], relaunched: [], decommissioned: [], violations: [] });
    await h.advance(10_000);
    expect(await dumpStore(h.persister)).toEqual(before);
  });

  it("still checks expectedGeneration", async () => {
    const h = await createHarness();
    const dry = h.scheduler.putService({ name: "hello", spec: example("simple.yml"), parameters: {}, dryRun: true, expectedGeneration: 2 });
    await expect(dry).rejects.toMatchObject({ code: "aborted" });
  });
});
