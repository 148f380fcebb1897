/**
 * The manual rollback (`--restore-backup`) made safe: only a multi store holding the migrated
 * service is restored (a second restore over a mono store that ran since is refused); a restore
 * in several multis leaves a `Restore` marker, every start refuses the store meanwhile, and a
 * re-run after a crash at any write ends in the uncrashed result.
 */
import pino from "pino";
import { describe, expect, it } from "vitest";
import { FaultInjectingPersister } from "../../src/adapters/persister/fault-injecting-persister.js";
import type { Persister } from "../../src/engine/ports.js";
import { RESTORE } from "../../src/engine/store/layout.js";
import { restoreBackup } from "../../src/engine/store/migration.js";
import { MonoLayoutPersister } from "../../src/engine/store/mono-layout.js";
import { ensureSchema } from "../../src/engine/store/schema.js";
import type { SchemaCheck } from "../../src/engine/store/schema.js";
import { dumpAll, schema1Nodes, storeWith } from "./migration-fixture.js";
import type { TopRecorder } from "./migration-fixture.js";

const log = pino({ level: "silent" });
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const FW = "hello-world";
const NOW = Date.UTC(2026, 11, 5, 1, 2, 3);
const BACKUP = "backup-2026-12-05-010203";
/** Small enough that the restore needs the marker, in many multis. */
const SMALL = 2000;

const staticStart: SchemaCheck = { mode: "static", frameworkName: FW, staticNames: [FW], nowMs: NOW, log };

/** A migrated store whose static scheduler has run since (the migrated service changed). */
async function migratedStore(): Promise<TopRecorder> {
  const store = await storeWith(schema1Nodes(3));
  await ensureSchema(store, staticStart);
  await store.multi([
    { kind: "set", path: "Services/hello-world/ConfigTarget", data: enc("config-c") },
    { kind: "set", path: "Services/hello-world/Tasks/hello-9-server/TaskInfo", data: enc("{}") },
  ]);
  return store;
}

const options = (max: number | undefined) => (max ? { maxMultiBytes: max } : {});

describe("restoreBackup, a crash at any write", () => {
  for (const [path, max] of [
    ["one multi", undefined],
    ["with the Restore marker", SMALL],
  ] as const) {
    it(`is finished by running it again, to exactly the uncrashed result (${path})`, async () => {
      const clean = await migratedStore();
      const counter = new FaultInjectingPersister(clean);
      expect(await restoreBackup(counter, FW, undefined, options(max))).toEqual({ restored: BACKUP });
      const want = await dumpAll(clean, [...clean.tops, RESTORE]);
      if (max) expect(counter.writes).toBeGreaterThan(3);
      else expect(counter.writes).toBe(1);

      let marked = 0;
      for (const mode of ["before", "after"] as const) {
        for (let k = 1; k <= counter.writes; k++) {
          const store = await migratedStore();
          await expect(restoreBackup(new FaultInjectingPersister(store, { failFromWrite: k, mode }), FW, undefined, options(max))).rejects.toThrow(/injected fault/);
          const finished = mode === "after" && k === counter.writes;
          if ((await store.get(RESTORE)) !== undefined) {
            marked++;
            // Half restored: no start in any mode takes the store.
            for (const mode of ["mono", "static", "dynamic"] as const) {
              await expect(ensureSchema(store, { ...staticStart, mode }), `${mode} ${k}`).rejects.toThrow(/a restore of the backup 'backup-2026-12-05-010203' is unfinished/);
            }
          }
          const rerun = restoreBackup(store, FW, undefined, options(max));
          if (finished) await expect(rerun).rejects.toThrow("the store is already a mono store (schema 1); nothing to restore");
          else expect(await rerun, `${mode} ${k}`).toEqual({ restored: BACKUP });
          expect(await dumpAll(store, [...clean.tops, RESTORE]), `${mode} ${k}`).toEqual(want);
        }
      }
      // The marker stays from its own write until the one of SchemaVersion 1: W - 1 crash points in each mode; one multi needs none.
      expect(marked).toBe(max ? 2 * (counter.writes - 1) : 0);
    });
  }

  it("an interrupted restore is finished with its own backup, and refuses another one named", async () => {
    const store = await migratedStore();
    // A newer backup exists: the re-run must not switch to it.
    await store.multi([
      { kind: "set", path: "backup-2027-01-01-000000/ConfigTarget", data: enc("other") },
      { kind: "set", path: "Backups", data: enc(JSON.stringify([BACKUP, "backup-2027-01-01-000000"])) },
    ]);
    await expect(restoreBackup(new FaultInjectingPersister(store, { failFromWrite: 3 }), FW, BACKUP, options(SMALL))).rejects.toThrow(/injected/);
    expect(JSON.parse(new TextDecoder().decode((await store.get(RESTORE))?.data))).toEqual({ backup: BACKUP });
    const before = await dumpAll(store);
    await expect(restoreBackup(store, FW, "backup-2027-01-01-000000", options(SMALL))).rejects.toThrow(`a restore of '${BACKUP}' is unfinished`);
    expect(await dumpAll(store)).toEqual(before);
    expect(await restoreBackup(store, FW, undefined, options(SMALL))).toEqual({ restored: BACKUP });
    expect(new TextDecoder().decode((await store.get("ConfigTarget"))?.data)).toBe("config-b");
  });
});

describe("restoreBackup refuses, changing nothing", () => {
  async function refused(store: Persister & { tops: Set<string> }, message: string | RegExp): Promise<void> {
    const before = await dumpAll(store);
    for (const max of [undefined, SMALL]) await expect(restoreBackup(store, FW, undefined, options(max))).rejects.toThrow(message);
    expect(await dumpAll(store)).toEqual(before);
  }

  it("a second restore after the mono scheduler ran: its live state stays", async () => {
    const store = await migratedStore();
    await restoreBackup(store, FW);
    // The mono scheduler started and wrote through its view.
    expect(await ensureSchema(store, { mode: "mono", frameworkName: FW, nowMs: NOW, log })).toEqual({ version: 1 });
    const view = new MonoLayoutPersister(store, FW);
    await view.multi([
      { kind: "set", path: "Services/hello-world/ConfigTarget", data: enc("config-d") },
      { kind: "set", path: "Services/hello-world/Tasks/hello-7-server/TaskInfo", data: enc('{"live":true}') },
    ]);
    await refused(store, "the store is already a mono store (schema 1); nothing to restore");
    expect(new TextDecoder().decode((await store.get("Tasks/hello-7-server/TaskInfo"))?.data)).toBe('{"live":true}');
  });

  it("the framework-named service is being removed", async () => {
    const store = await migratedStore();
    await store.multi([{ kind: "set", path: "ServiceList/hello-world/Removal", data: enc(JSON.stringify({ startedMs: 1, released: [] })) }]);
    await refused(store, /the service 'hello-world' is being removed/);
  });

  it("the framework-named service is not stored (removed in static mode, or another framework name)", async () => {
    const store = await migratedStore();
    await store.multi([
      { kind: "delete", path: "ServiceList/hello-world" },
      { kind: "delete", path: "Services/hello-world" },
    ]);
    await refused(store, /the store holds no service 'hello-world'/);
    const other = await migratedStore();
    const before = await dumpAll(other);
    await expect(restoreBackup(other, "other-fw")).rejects.toThrow(/no service 'other-fw'/);
    expect(await dumpAll(other)).toEqual(before);
  });

  it("a store without SchemaVersion, or a damaged Restore marker", async () => {
    const store = await migratedStore();
    await store.multi([{ kind: "delete", path: "SchemaVersion" }]);
    await refused(store, "the store's SchemaVersion is missing, not 2");
    const marked = await migratedStore();
    await marked.multi([{ kind: "set", path: RESTORE, data: enc("garbage") }]);
    await refused(marked, /'Restore' node holds 'garbage', not a restore marker/);
  });
});
