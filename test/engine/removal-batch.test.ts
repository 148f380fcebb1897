/**
 * UninstallService calls that arrive together begin in one durable write (records and STARTED
 * events), in call order, and each removal then completes on its own.
 */
import { describe, expect, it } from "vitest";
import { MemoryPersister } from "../../src/adapters/persister/memory-persister.js";
import type { PersisterOp } from "../../src/engine/ports.js";
import { removalPath } from "../../src/engine/service-removal.js";
import { createHarness } from "../harness/harness.js";

class CountingPersister extends MemoryPersister {
  readonly multis: (readonly PersisterOp[])[] = [];
  override multi(ops: readonly PersisterOp[]): Promise<void> {
    this.multis.push(ops);
    return super.multi(ops);
  }
}

describe("removals begun together", () => {
  it("write every record and STARTED event in one multi, in call order, and all complete", async () => {
    const persister = new CountingPersister();
    const h = await createHarness({ persister, agents: 5 });
    const names = Array.from({ length: 10 }, (_, i) => `svc-${i}`);
    for (const n of names) await h.put(n, "simple.yml");
    await h.deployAll(names);
    persister.multis.length = 0;
    const views = await Promise.all(names.map((n) => h.scheduler.uninstallService(n)));
    const starts = persister.multis.filter((ops) => ops.some((op) => op.kind === "set" && names.some((n) => op.path === removalPath(n))));
    expect(starts).toHaveLength(1);
    expect(starts[0]!.filter((op) => op.kind === "set" && op.path.endsWith("/Removal")).map((op) => op.path)).toEqual(names.map(removalPath));
    const ids = views.map((v) => v.removalId!);
    expect(ids.every((id, i) => i === 0 || id > ids[i - 1]!)).toBe(true); // STARTED sequences in call order
    for (let i = 0; i < 100 && h.scheduler.listServices().length > 0; i++) await h.advance(1000);
    expect(h.scheduler.listServices()).toEqual([]);
    expect(h.cluster.tasks()).toEqual([]);
    expect([...h.cluster.reservations().values()].flat()).toEqual([]);
    // A name that is no service is still refused on its own.
    await expect(h.scheduler.uninstallService("nope")).rejects.toMatchObject({ code: "not_found" });
  });
});
