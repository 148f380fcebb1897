/**
 * A service keeps its user when a new spec names none (user-inherit.ts): dropping a `user:` line
 * relaunches nothing and the stored spec keeps the user, also after a restart; a spec naming
 * another user changes it. Dynamic mode, simulated cluster, fake clock.
 */
import { describe, expect, it } from "vitest";
import { decodeJson, decodeText } from "../../src/engine/store/codec.js";
import { createHarness, example } from "../harness/harness.js";
import type { Harness } from "../harness/harness.js";

const SIMPLE = example("simple.yml");
const AS_NOBODY = `scheduler:\n  user: nobody\n${SIMPLE}`;

const taskIds = (h: Harness): string[] => h.cluster.tasks().map((t) => t.taskId).sort();

async function storedSpec(h: Harness, name: string): Promise<{ user?: string }> {
  const target = decodeText((await h.persister.get(`Services/${name}/ConfigTarget`))!.data);
  return decodeJson((await h.persister.get(`Services/${name}/Configurations/${target}`))!.data);
}

async function storedContext(h: Harness, name: string): Promise<Record<string, unknown>> {
  return decodeJson((await h.persister.get(`ServiceList/${name}/Context`))!.data);
}

describe("a new spec naming no user", () => {
  it("keeps the running user: nothing relaunched, the context carries it as default, a restart keeps it", async () => {
    const h = await createHarness();
    await h.scheduler.putService({ name: "svc", spec: AS_NOBODY, parameters: {} });
    await h.deployAll(["svc"]);
    expect(await storedSpec(h, "svc")).toMatchObject({ user: "nobody" });
    expect(await storedContext(h, "svc")).not.toHaveProperty("defaultUser");
    const ids = taskIds(h);

    const dry = await h.scheduler.putService({ name: "svc", spec: SIMPLE, parameters: {}, dryRun: true });
    expect(dry.change).toMatchObject({ relaunched: [], violations: [] });
    const result = await h.scheduler.putService({ name: "svc", spec: SIMPLE, parameters: {} });
    expect(result).toMatchObject({ outcome: "UPDATED", change: { relaunched: [], added: [], decommissioned: [] } });
    expect(await storedSpec(h, "svc")).toMatchObject({ user: "nobody" });
    expect(await storedContext(h, "svc")).toMatchObject({ generation: 2, defaultUser: "nobody" });
    await h.deployAll(["svc"]);
    await h.advance(10_000);
    expect(taskIds(h)).toEqual(ids);

    // The same spec again: unchanged (the default is what the running service has).
    expect((await h.scheduler.putService({ name: "svc", spec: SIMPLE, parameters: {} })).outcome).toBe("UNCHANGED");

    await h.scheduler.stop();
    const again = await createHarness({ seed: 2, cluster: h.cluster, clock: h.clock, persister: h.persister });
    await again.deployAll(["svc"]);
    await again.advance(10_000);
    expect(taskIds(again)).toEqual(ids);
    expect((await again.scheduler.putService({ name: "svc", spec: SIMPLE, parameters: {} })).outcome).toBe("UNCHANGED");
  });

  it("a spec naming a user drops the default from the context", async () => {
    const h = await createHarness();
    await h.scheduler.putService({ name: "svc", spec: AS_NOBODY, parameters: {} });
    await h.scheduler.putService({ name: "svc", spec: SIMPLE, parameters: {} });
    expect(await storedContext(h, "svc")).toMatchObject({ defaultUser: "nobody" });
    await h.scheduler.putService({ name: "svc", spec: AS_NOBODY.replace("memory: 256", "memory: 128"), parameters: {} });
    expect(await storedContext(h, "svc")).not.toHaveProperty("defaultUser");
    expect(await storedSpec(h, "svc")).toMatchObject({ user: "nobody" });
  });

  it("a service that never had a user gets none", async () => {
    const h = await createHarness();
    await h.put("svc", "simple.yml");
    await h.scheduler.putService({ name: "svc", spec: SIMPLE.replace("cpus: 0.1", "cpus: 0.2"), parameters: {} });
    expect(await storedSpec(h, "svc")).not.toHaveProperty("user");
    expect(await storedContext(h, "svc")).not.toHaveProperty("defaultUser");
  });

  it("a quarantined service repaired with a spec naming no user keeps its stored user", async () => {
    const first = await createHarness();
    await first.scheduler.putService({ name: "svc", spec: AS_NOBODY, parameters: {} });
    await first.deployAll(["svc"]);
    const ids = taskIds(first);
    await first.scheduler.stop();
    // What an upgrade that rejects the stored spec looks like: the context no longer builds.
    const ctx = await storedContext(first, "svc");
    await first.persister.multi([{ kind: "set", path: "ServiceList/svc/Context", data: new TextEncoder().encode(JSON.stringify({ ...ctx, spec: "name: svc\npods: {}" })) }]);

    const second = await createHarness({ seed: 2, cluster: first.cluster, clock: first.clock, persister: first.persister });
    expect(second.scheduler.getService("svc").state).toBe("QUARANTINED");
    await second.scheduler.putService({ name: "svc", spec: SIMPLE, parameters: {} });
    expect(await storedSpec(second, "svc")).toMatchObject({ user: "nobody" });
    expect(await storedContext(second, "svc")).toMatchObject({ defaultUser: "nobody" });
    await second.deployAll(["svc"]);
    expect(taskIds(second)).toEqual(ids);
  });
});
