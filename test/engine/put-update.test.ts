/**
 * PutService for a running service with a different spec (reconfiguration, engine side):
 * refused changes answer FAILED_PRECONDITION with field violations and change nothing, dry runs
 * report the change and store nothing, accepted changes bump the generation, and two callers
 * racing with the same expectedGeneration see one succeed and one ABORTED.
 * Simulated cluster, fake clock; the store is compared before and after.
 */
import { describe, expect, it } from "vitest";
import { createHarness, example } from "../harness/harness.js";
import type { Harness } from "../harness/harness.js";
import { dumpStore } from "./store-dump.js";

const SIMPLE = example("simple.yml");
const withCpus = (cpus: string): string => SIMPLE.replace("cpus: 0.1", `cpus: ${cpus}`);
const HELLO_WORLD = example("hello-world.yml");

async function deployedSimple(): Promise<Harness> {
  const h = await createHarness();
  await h.put("hello", "simple.yml");
  await h.deployAll(["hello"]);
  return h;
}

const taskIds = (h: Harness): string[] => h.cluster.tasks().map((t) => t.taskId).sort();

describe("PutService with a changed spec", () => {
  it("updates the service: generation 2, createdMs kept, the changed pod relaunched", async () => {
    const h = await deployedSimple();
    const created = h.scheduler.getService("hello");
    await h.advance(1000);
    const result = await h.scheduler.putService({ name: "hello", spec: withCpus("0.2"), parameters: {}, expectedGeneration: 1 });
    expect(result.outcome).toBe("UPDATED");
    expect(result.service.generation).toBe(2);
    expect(result.service.createdMs).toBe(created.createdMs);
    expect(result.service.updatedMs).toBeGreaterThan(created.updatedMs);
    expect(result.service.configId).not.toBe(created.configId);
    expect(result.change).toMatchObject({ relaunched: ["hello-0"], added: [], decommissioned: [], violations: [] });
    const before = taskIds(h);
    await h.deployAll(["hello"]);
    expect(taskIds(h)).toHaveLength(1);
    expect(taskIds(h)).not.toEqual(before);
    expect(h.scheduler.getService("hello").generation).toBe(2);
  });

  it("lets one of two callers racing with the same expectedGeneration through and answers the other ABORTED", async () => {
    const h = await deployedSimple();
    const [a, b] = await Promise.allSettled([
      h.scheduler.putService({ name: "hello", spec: withCpus("0.2"), parameters: {}, expectedGeneration: 1 }),
      h.scheduler.putService({ name: "hello", spec: withCpus("0.3"), parameters: {}, expectedGeneration: 1 }),
    ]);
    expect(a).toMatchObject({ status: "fulfilled", value: { outcome: "UPDATED", service: { generation: 2 } } });
    expect(b).toMatchObject({ status: "rejected", reason: { code: "aborted", message: expect.stringMatching(/generation 2.*expected 1/) as string } });
    expect(h.scheduler.getService("hello").generation).toBe(2);
  });

  it("dry run: reports the change, stores nothing, kills nothing", async () => {
    const h = await deployedSimple();
    const before = await dumpStore(h.persister);
    const tasks = taskIds(h);
    const result = await h.scheduler.putService({ name: "hello", spec: withCpus("0.2"), parameters: {}, dryRun: true });
    expect(result).toMatchObject({ outcome: "UPDATED", dryRun: true, service: { generation: 1 } });
    expect(result.change).toMatchObject({ relaunched: ["hello-0"], violations: [] });
    await h.advance(30_000);
    expect(await dumpStore(h.persister)).toEqual(before);
    expect(taskIds(h)).toEqual(tasks);
    expect(h.scheduler.getService("hello").generation).toBe(1);
  });

  it("refuses a change against the rules with every violation as a field violation; a dry run lists them", async () => {
    const h = await createHarness();
    await h.put("hw", "hello-world.yml");
    await h.deployAll(["hw"]);
    const before = await dumpStore(h.persister);
    // A volume may not change (§1.13).
    const volume = "path: hello-container-path\n          type: ROOT\n          size: 25";
    expect(HELLO_WORLD).toContain(volume);
    const grown = HELLO_WORLD.replace(volume, volume.replace("25", "50"));
    const refused = h.scheduler.putService({ name: "hw", spec: grown, parameters: {} });
    await expect(refused).rejects.toMatchObject({ code: "failed_precondition", violations: [expect.objectContaining({ field: expect.stringContaining("hello") as string })] });
    const dry = await h.scheduler.putService({ name: "hw", spec: grown, parameters: {}, dryRun: true });
    expect(dry.dryRun).toBe(true);
    expect(dry.change?.violations.length).toBeGreaterThan(0);
    await h.advance(10_000);
    expect(await dumpStore(h.persister)).toEqual(before);
    expect(h.scheduler.getService("hw").generation).toBe(1);
  });
});
