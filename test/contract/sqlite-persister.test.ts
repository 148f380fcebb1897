import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SqlitePersister } from "../../src/adapters/persister/sqlite-persister.js";
import { tempDir } from "../use-temp-dir.js";
import { describePersisterContract } from "./persister-contract.js";

const root = tempDir("sqlite");
let n = 0;
/** A path for a database file nobody has used yet. */
const freshFile = (): string => join(root, `t${++n}`, "corral.db");


describePersisterContract("SqlitePersister", () => Promise.resolve(SqlitePersister.open(freshFile())));

const enc = new TextEncoder();
const dec = new TextDecoder();
const data = (s: string): Uint8Array => enc.encode(s);

describe("SqlitePersister", () => {
  it("keeps every committed write across close and reopen", async () => {
    const file = freshFile();
    const first = SqlitePersister.open(file);
    await first.multi([
      { kind: "create", path: "ServiceList/a/Context", data: data("ctx-a") },
      { kind: "set", path: "Services/a/Config", data: data("cfg") },
    ]);
    await first.multi([{ kind: "set", path: "Services/a/Config", data: data("cfg2"), version: 0 }]);
    await first.multi([{ kind: "delete", path: "Services/gone" }]);
    await first.close();

    const second = SqlitePersister.open(file);
    try {
      const cfg = await second.get("Services/a/Config");
      expect(cfg && dec.decode(cfg.data)).toBe("cfg2");
      expect(cfg?.version).toBe(1);
      expect(await second.children("ServiceList")).toEqual(["a"]);
      expect(await second.children("Services")).toEqual(["a"]);
    } finally {
      await second.close();
    }
  });

  it("rolls back a failed multi so a reopen sees none of it", async () => {
    const file = freshFile();
    const first = SqlitePersister.open(file);
    await first.multi([{ kind: "create", path: "n", data: data("v0") }]);
    await expect(
      first.multi([
        { kind: "set", path: "n", data: data("v1") },
        { kind: "create", path: "m/deep", data: data("x") },
        { kind: "check", path: "n", version: 0 },
      ]),
    ).rejects.toMatchObject({ code: "aborted" });
    await first.close();
    const second = SqlitePersister.open(file);
    expect(await second.get("n")).toEqual({ data: data("v0"), version: 0 });
    expect(await second.get("m")).toBeUndefined();
    await second.close();
  });

  it("deletes a subtree by exact prefix: case, '%', '_' and sibling names are kept", async () => {
    const store = SqlitePersister.open(freshFile());
    await store.multi([
      { kind: "set", path: "a_b/x", data: data("1") },
      { kind: "set", path: "axb/x", data: data("2") },
      { kind: "set", path: "A_B/x", data: data("3") },
      { kind: "set", path: "a_b0", data: data("4") },
      { kind: "set", path: "a_b.c", data: data("5") },
      { kind: "set", path: "a%/x", data: data("6") },
      { kind: "set", path: "ab/x", data: data("7") },
    ]);
    await store.multi([{ kind: "delete", path: "a_b" }]);
    await store.multi([{ kind: "delete", path: "a%" }]);
    expect(await store.get("a_b")).toBeUndefined();
    expect(await store.get("a_b/x")).toBeUndefined();
    expect(await store.get("a%/x")).toBeUndefined();
    for (const kept of ["axb/x", "A_B/x", "a_b0", "a_b.c", "ab/x"]) {
      expect(await store.get(kept), kept).toBeDefined();
    }
    await store.close();
  });

  it("lists children of a top-level node and of deep nodes with unicode names", async () => {
    const store = SqlitePersister.open(freshFile());
    await store.multi([
      { kind: "set", path: "s/é", data: data("1") },
      { kind: "set", path: "s/z", data: data("2") },
      { kind: "set", path: "s/Z/deeper", data: data("3") },
    ]);
    expect(await store.children("s")).toEqual(["Z", "z", "é"]);
    expect(await store.children("s/Z")).toEqual(["deeper"]);
    await store.close();
  });

  it("honours a configured value limit exactly", async () => {
    const store = SqlitePersister.open(freshFile(), { maxValueBytes: 4 });
    await store.multi([{ kind: "set", path: "ok", data: new Uint8Array(4) }]);
    await expect(
      store.multi([{ kind: "set", path: "big", data: new Uint8Array(5) }]),
    ).rejects.toMatchObject({ code: "invalid_argument" });
    await store.close();
  });

  it("accepts exactly 1 MiB by default", async () => {
    const store = SqlitePersister.open(freshFile());
    await store.multi([{ kind: "set", path: "max", data: new Uint8Array(1024 * 1024) }]);
    expect((await store.get("max"))?.data.byteLength).toBe(1024 * 1024);
    await store.close();
  });

  it("is unavailable after close, and close is idempotent", async () => {
    const store = SqlitePersister.open(freshFile());
    await store.close();
    await store.close();
    await expect(store.get("a")).rejects.toMatchObject({ code: "unavailable" });
    await expect(store.children("a")).rejects.toMatchObject({ code: "unavailable" });
    await expect(store.multi([])).rejects.toMatchObject({ code: "unavailable" });
  });

  it("opens its database in WAL mode", async () => {
    const file = freshFile();
    const store = SqlitePersister.open(file);
    await store.close();
    const Database = (await import("better-sqlite3")).default;
    const db = new Database(file, { readonly: true });
    try {
      expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    } finally {
      db.close();
    }
  });

  it("group commit: multis called in the same turn share one transaction, each atomic on its own", async () => {
    const file = freshFile();
    const store = SqlitePersister.open(file);
    await store.multi([{ kind: "create", path: "n", data: data("v0") }]);
    const before = store.commits;
    const results = await Promise.allSettled([
      store.multi([{ kind: "set", path: "a", data: data("a") }]),
      store.multi([
        { kind: "set", path: "half/done", data: data("x") },
        { kind: "check", path: "n", version: 3 },
      ]),
      store.multi([{ kind: "set", path: "n", data: data("v1"), version: 0 }]),
      store.multi([{ kind: "create", path: "n", data: data("dup") }]),
      store.multi([{ kind: "set", path: "b/c", data: data("bc") }]),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled", "rejected", "fulfilled"]);
    expect(store.commits - before).toBe(1);
    await store.close();
    // Durable as committed: a reopen sees exactly the multis that resolved.
    const again = SqlitePersister.open(file);
    try {
      expect(await again.get("half")).toBeUndefined();
      expect(await again.get("n")).toEqual({ data: data("v1"), version: 1 });
      expect((await again.get("a"))?.data).toEqual(data("a"));
      expect((await again.get("b/c"))?.data).toEqual(data("bc"));
    } finally {
      await again.close();
    }
  });

  it("group commit: later multis of a batch see earlier ones, in call order", async () => {
    const store = SqlitePersister.open(freshFile());
    const results = await Promise.allSettled([
      store.multi([{ kind: "create", path: "n", data: data("1") }]),
      store.multi([{ kind: "set", path: "n", data: data("2"), version: 0 }]),
      store.multi([{ kind: "set", path: "n", data: data("stale"), version: 0 }]),
      store.multi([{ kind: "set", path: "n", data: data("3"), version: 1 }]),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "fulfilled", "rejected", "fulfilled"]);
    expect(await store.get("n")).toEqual({ data: data("3"), version: 2 });
    expect(store.commits).toBe(1);
    await store.close();
  });

  it("lands multis still queued when it is closed", async () => {
    const file = freshFile();
    const store = SqlitePersister.open(file);
    const pending = store.multi([{ kind: "set", path: "late", data: data("x") }]);
    await store.close();
    await expect(pending).resolves.toBeUndefined();
    const again = SqlitePersister.open(file);
    expect((await again.get("late"))?.data).toEqual(data("x"));
    await again.close();
  });
});
