/**
 * ensureSchema at start (dcos-commons §2.4): each mode over a store with no SchemaVersion, 1, 2
 * or something else. Refusals change nothing and say what to do.
 */
import pino from "pino";
import { describe, expect, it } from "vitest";
import type { ServiceMode } from "../../src/engine/admin-api.js";
import { ensureSchema } from "../../src/engine/store/schema.js";
import type { SchemaCheck } from "../../src/engine/store/schema.js";
import { dumpAll, schema1Nodes, storeWith } from "./migration-fixture.js";

const log = pino({ level: "silent" });
const FW = "hello-world";
const NOW = Date.UTC(2026, 11, 5, 1, 2, 3);
const MODES: readonly ServiceMode[] = ["dynamic", "static", "mono"];

function check(mode: ServiceMode, staticNames: readonly string[] = [FW, "foobar"]): SchemaCheck {
  return { mode, frameworkName: FW, nowMs: NOW, log, ...(mode === "static" ? { staticNames } : {}) };
}

/** A store at `version` (undefined: no SchemaVersion node) with a mono service's nodes when 1. */
async function storeAt(version: string | undefined): Promise<Awaited<ReturnType<typeof storeWith>>> {
  const nodes: Record<string, string | Uint8Array> = version === "1" ? schema1Nodes(1) : { FrameworkID: "f" };
  if (version === undefined) delete nodes.SchemaVersion;
  else nodes.SchemaVersion = version;
  return storeWith(nodes);
}

const text = async (store: Awaited<ReturnType<typeof storeWith>>, path: string): Promise<string | undefined> => {
  const v = await store.get(path);
  return v && new TextDecoder().decode(v.data);
};

describe("ensureSchema", () => {
  describe("no SchemaVersion (a new store)", () => {
    for (const [mode, want] of [
      ["dynamic", 2],
      ["static", 2],
      ["mono", 1],
    ] as const) {
      it(`${mode}: writes ${want}`, async () => {
        const store = await storeAt(undefined);
        expect(await ensureSchema(store, check(mode))).toEqual({ version: want });
        expect(await text(store, "SchemaVersion")).toBe(String(want));
      });
    }
  });

  describe("SchemaVersion 1 (a mono store)", () => {
    it("mono: accepts it, writing nothing", async () => {
      const store = await storeAt("1");
      const before = await dumpAll(store);
      expect(await ensureSchema(store, check("mono"))).toEqual({ version: 1 });
      expect(await dumpAll(store)).toEqual(before);
    });

    it("dynamic: refuses, saying a migration needs static mode with a service named like the framework", async () => {
      const store = await storeAt("1");
      const before = await dumpAll(store);
      const refused = ensureSchema(store, check("dynamic"));
      await expect(refused).rejects.toMatchObject({ code: "failed_precondition" });
      await expect(refused).rejects.toThrow("a mono store is migrated by starting in static mode with a service named 'hello-world'");
      expect(await dumpAll(store)).toEqual(before);
    });

    for (const mode of ["mono", "static"] as const) {
      it(`${mode} under another framework name: refuses naming the store's framework, changing nothing`, async () => {
        const store = await storeAt("1");
        const before = await dumpAll(store);
        const refused = ensureSchema(store, { mode, frameworkName: "hello", nowMs: NOW, log, ...(mode === "static" ? { staticNames: ["hello"] } : {}) });
        await expect(refused).rejects.toMatchObject({ code: "failed_precondition" });
        await expect(refused).rejects.toThrow("belongs to the framework 'hello-world', not 'hello': start with --framework-name hello-world");
        expect(await dumpAll(store)).toEqual(before);
      });
    }

    it("static with a service named like the framework: migrates", async () => {
      const store = await storeAt("1");
      expect(await ensureSchema(store, check("static"))).toEqual({ version: 2, migratedBackup: "backup-2026-12-05-010203" });
      expect(await text(store, "SchemaVersion")).toBe("2");
      expect(await text(store, "Services/hello-world/ConfigTarget")).toBe("config-b");
      expect(await store.get("ConfigTarget")).toBeUndefined();
    });

    it("static without one: refuses naming the framework and the services, changing nothing", async () => {
      const store = await storeAt("1");
      const before = await dumpAll(store);
      const refused = ensureSchema(store, check("static", ["foobar", "hello"]));
      await expect(refused).rejects.toMatchObject({ code: "failed_precondition" });
      await expect(refused).rejects.toThrow(/named like the framework, 'hello-world', but the files give 'foobar', 'hello'/);
      expect(await dumpAll(store)).toEqual(before);
    });

    it("static with a name equal to the framework's only once sanitized (a/b and a.b, /fw and fw): refuses, changing nothing", async () => {
      // The migrated service keeps the framework's name; the static set matches names exactly, so it would be uninstalled.
      for (const [framework, name] of [
        ["a/b", "a.b"],
        ["/fw", "fw"],
      ]) {
        const store = await storeWith(schema1Nodes(1, framework));
        const before = await dumpAll(store);
        const refused = ensureSchema(store, { ...check("static", [name!, "foobar"]), frameworkName: framework! });
        await expect(refused).rejects.toThrow(`named like the framework, '${framework}', but the files give '${name}', 'foobar'`);
        expect(await dumpAll(store)).toEqual(before);
      }
    });
  });

  describe("SchemaVersion 2 (a multi store)", () => {
    for (const mode of ["dynamic", "static"] as const) {
      it(`${mode}: accepts it, writing nothing`, async () => {
        const store = await storeAt("2");
        const before = await dumpAll(store);
        expect(await ensureSchema(store, check(mode))).toEqual({ version: 2 });
        expect(await dumpAll(store)).toEqual(before);
      });
    }

    it("mono: refuses, pointing at --restore-backup", async () => {
      const store = await storeAt("2");
      const refused = ensureSchema(store, check("mono"));
      await expect(refused).rejects.toMatchObject({ code: "failed_precondition" });
      await expect(refused).rejects.toThrow(/cannot go back to mono; restore a backup with --restore-backup/);
    });
  });

  describe("a SchemaVersion that is neither", () => {
    for (const [what, value] of [
      ["empty", ""],
      ["garbage", "zwei\u0000"],
      ["an unknown version", "3"],
      ["padded", " 2"],
    ] as const) {
      for (const mode of MODES) {
        it(`${what}, ${mode}: a clear refusal, nothing written`, async () => {
          const store = await storeAt(value);
          const before = await dumpAll(store);
          const refused = ensureSchema(store, check(mode));
          await expect(refused).rejects.toMatchObject({ code: "failed_precondition" });
          await expect(refused).rejects.toThrow(/SchemaVersion node holds .*, not 1 \(mono\) or 2 \(multi-service\)/);
          expect(await dumpAll(store)).toEqual(before);
        });
      }
    }
  });

  it("a Migration node that is not a marker: a clear refusal", async () => {
    for (const value of ["", "{}", "[1]", JSON.stringify({ service: "x", backup: "b", phase: "copy" })]) {
      const store = await storeWith({ SchemaVersion: "1", Migration: value });
      await expect(ensureSchema(store, check("static"))).rejects.toThrow(/'Migration' node holds .*not a migration marker/);
    }
  });

  it("a marker of another service than the framework name: refused in every mode, changing nothing", async () => {
    for (const [version, phase] of [
      ["1", "copy"],
      ["2", "delete"],
    ] as const) {
      const nodes = { ...schema1Nodes(1), SchemaVersion: version, Migration: JSON.stringify({ service: "old-fw", backup: "backup-2026-12-05-010203", phase }) };
      for (const mode of MODES) {
        const store = await storeWith(nodes);
        const before = await dumpAll(store);
        await expect(ensureSchema(store, check(mode, [FW, "old-fw"]))).rejects.toThrow(
          "the store holds an unfinished migration of the service 'old-fw' (node 'Migration'), but the framework name is 'hello-world': start with --framework-name old-fw",
        );
        expect(await dumpAll(store)).toEqual(before);
      }
    }
  });

  it("a half-done restore (a Restore marker): refused in every mode, changing nothing", async () => {
    const store = await storeWith({ ...schema1Nodes(1), SchemaVersion: "2", Restore: JSON.stringify({ backup: "backup-2026-12-05-010203" }) });
    const before = await dumpAll(store);
    for (const mode of MODES) {
      await expect(ensureSchema(store, check(mode))).rejects.toThrow("a restore of the backup 'backup-2026-12-05-010203' is unfinished (node 'Restore')");
    }
    expect(await dumpAll(store)).toEqual(before);
  });

  it("a marker that disagrees with SchemaVersion: a clear refusal", async () => {
    const store = await storeWith({ SchemaVersion: "1", Migration: JSON.stringify({ service: FW, backup: "backup-2026-12-05-010203", phase: "delete" }) });
    await expect(ensureSchema(store, check("static"))).rejects.toThrow(/unfinished migration .* SchemaVersion is 1, not 2/);
  });
});
