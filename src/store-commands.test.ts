/**
 * `--list-backups` and `--restore-backup` on a SQLite store in a temp data directory: a mono
 * store migrated (the store's own migration), listed, restored; refused beside a scheduler that
 * holds the data directory, and where there is no store. One run through the scheduler process
 * (main.ts) checks what it prints and its exit codes.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { acquireDataDirLock } from "./adapters/file-lock.js";
import { SqlitePersister } from "./adapters/persister/sqlite-persister.js";
import { resolveOptions } from "./config.js";
import type { PersisterOp } from "./engine/ports.js";
import { decodeText, encodeText } from "./engine/store/codec.js";
import { migrateMonoToMulti } from "./engine/store/migration.js";
import { runStoreCommand } from "./store-commands.js";
import { tempDir } from "../test/use-temp-dir.js";

const logger = pino({ level: "silent" });
const FW = "hello-world";
/** 2026-12-05 01:15:00 UTC: the backup is named after it. */
const MIGRATED_AT = Date.UTC(2026, 11, 5, 1, 15, 0);
const BACKUP = "backup-2026-12-05-011500";

/** A data directory whose SQLite store is `hello-world`'s mono store, migrated to schema 2 (a backup made). */
async function migratedStore(): Promise<string> {
  const dataDir = tempDir("store-commands");
  const persister = SqlitePersister.open(join(dataDir, "corral.db"));
  const set = (path: string, text: string): PersisterOp => ({ kind: "set", path, data: encodeText(text) });
  await persister.multi([
    set("SchemaVersion", "1"),
    set("FrameworkID", "fw-1"),
    set("ConfigTarget", "cfg-1"),
    set("Configurations/cfg-1", "{}"),
    set("Tasks/hello-0-server/TaskInfo", "task"),
    set("ServiceContext", "ctx"),
  ]);
  await migrateMonoToMulti(persister, FW, MIGRATED_AT);
  await persister.close();
  return dataDir;
}

async function read(dataDir: string, paths: readonly string[]): Promise<(string | undefined)[]> {
  const persister = SqlitePersister.open(join(dataDir, "corral.db"));
  try {
    return await Promise.all(paths.map(async (p) => {
      const v = await persister.get(p);
      return v ? decodeText(v.data) : undefined;
    }));
  } finally {
    await persister.close();
  }
}

const optionsFor = (dataDir: string, ...more: string[]) => resolveOptions(["--data-dir", dataDir, "--framework-name", FW, "--cluster", "sim", ...more], {});

describe("the store commands on SQLite", () => {
  it("lists the migration's backup and restores it: the mono store back, the backup kept", async () => {
    const dataDir = await migratedStore();
    expect(await read(dataDir, ["SchemaVersion", "ConfigTarget", "Services/hello-world/ConfigTarget"])).toEqual(["2", undefined, "cfg-1"]);

    expect(await runStoreCommand({ kind: "list-backups" }, optionsFor(dataDir), logger)).toEqual([BACKUP]);
    const restored = await runStoreCommand({ kind: "restore-backup" }, optionsFor(dataDir), logger);
    expect(restored[0]).toBe(`restored ${BACKUP} in ${join(dataDir, "corral.db")}: the store is a mono store (schema 1) of 'hello-world' again; the backup is kept`);

    expect(await read(dataDir, ["SchemaVersion", "ConfigTarget", "Tasks/hello-0-server/TaskInfo", "ServiceContext", "FrameworkID", "Services/hello-world/ConfigTarget", "ServiceList/hello-world/Context"])).toEqual([
      "1",
      "cfg-1",
      "task",
      "ctx",
      "fw-1",
      undefined,
      undefined,
    ]);
    expect(await runStoreCommand({ kind: "list-backups" }, optionsFor(dataDir), logger)).toEqual([BACKUP]);
  });

  it("restores a backup by name, and refuses one that is not there, naming those that are", async () => {
    const dataDir = await migratedStore();
    await expect(runStoreCommand({ kind: "restore-backup", backup: "backup-2020-01-01-000000" }, optionsFor(dataDir), logger)).rejects.toThrow(
      `no backup 'backup-2020-01-01-000000' in this store; its backups are: ${BACKUP}`,
    );
    expect(await read(dataDir, ["SchemaVersion"])).toEqual(["2"]);
    await runStoreCommand({ kind: "restore-backup", backup: BACKUP }, optionsFor(dataDir), logger);
    expect(await read(dataDir, ["SchemaVersion"])).toEqual(["1"]);
  });

  it("refuses while a scheduler holds the data directory, changing nothing", async () => {
    const dataDir = await migratedStore();
    const held = await acquireDataDirLock(dataDir);
    try {
      await expect(runStoreCommand({ kind: "restore-backup" }, optionsFor(dataDir), logger)).rejects.toThrow(/another Corral scheduler holds/);
    } finally {
      await held.release();
    }
    expect(await read(dataDir, ["SchemaVersion"])).toEqual(["2"]);
  });

  it("refuses a data directory without a store, creating none, and the memory store", async () => {
    const dataDir = join(tempDir("store-commands"), "typo");
    await expect(runStoreCommand({ kind: "list-backups" }, optionsFor(dataDir), logger)).rejects.toThrow(
      `--list-backups: there is no store at ${join(dataDir, "corral.db")} (check --data-dir)`,
    );
    expect(existsSync(dataDir)).toBe(false);
    await expect(runStoreCommand({ kind: "restore-backup" }, optionsFor(dataDir, "--store", "memory"), logger)).rejects.toThrow(/--store memory keeps nothing/);
  });

  it("says so when a store has no backup", async () => {
    const dataDir = tempDir("store-commands");
    await SqlitePersister.open(join(dataDir, "corral.db")).close();
    expect(await runStoreCommand({ kind: "list-backups" }, optionsFor(dataDir), logger)).toEqual([`no backups in ${join(dataDir, "corral.db")}`]);
    await expect(runStoreCommand({ kind: "restore-backup" }, optionsFor(dataDir), logger)).rejects.toThrow(/this store has no backup/);
  });
});

describe("the scheduler process runs them", () => {
  const main = fileURLToPath(new URL("./main.ts", import.meta.url));
  const run = (args: string[]) =>
    promisify(execFile)(process.execPath, ["--import", "tsx", main, ...args], { env: { ...process.env, CORRAL_LOG_LEVEL: "error" } }).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );

  it("prints what it did and exits 0; a failure is one corral: line and exit 1", async () => {
    const dataDir = await migratedStore();
    const store = ["--data-dir", dataDir, "--framework-name", FW, "--cluster", "sim"];
    expect(await run(["--list-backups", ...store])).toEqual({ code: 0, stdout: `${BACKUP}\n`, stderr: "" });
    const restored = await run(["--restore-backup", BACKUP, ...store]);
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stdout).toMatch(new RegExp(`^restored ${BACKUP} in .*corral\\.db: the store is a mono store \\(schema 1\\)`));
    expect(await run(["--restore-backup", "backup-nope", ...store])).toEqual({
      code: 1,
      stdout: "",
      stderr: `corral: no backup 'backup-nope' in this store; its backups are: ${BACKUP}\n`,
    });
    // Run twice, it would roll back whatever the mono scheduler did since: refused.
    expect(await run(["--restore-backup", ...store])).toEqual({
      code: 1,
      stdout: "",
      stderr: "corral: the store is already a mono store (schema 1); nothing to restore\n",
    });
  });
});
