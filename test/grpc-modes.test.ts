/**
 * Static and mono mode over gRPC: a scheduler started in-process (startCorral, memory store,
 * simulated cluster) from spec files answers PutService and UninstallService
 * FAILED_PRECONDITION naming its mode and flag, serves the read RPCs, and reports its mode and
 * schema version in GetScheduler (and `corral scheduler`). On SQLite, a mono store migrated by a
 * static start and rolled back with the store command.
 */
import { copyFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { status as GrpcStatus } from "@grpc/grpc-js";
import type { ServiceError } from "@grpc/grpc-js";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCorral } from "../src/app.js";
import type { Corral } from "../src/app.js";
import { resolveOptions } from "../src/config.js";
import { ServiceMode, createAdminClient } from "../src/client/index.js";
import type { AdminClient } from "../src/client/index.js";
import { runStoreCommand } from "../src/store-commands.js";
import { runCli, shown } from "./cli/run-cli.js";
import { tempDir } from "./use-temp-dir.js";

const EXAMPLES = new URL("../examples/", import.meta.url);
const logger = pino({ level: "silent" });

/** A directory of spec files copied from examples/ (target name → example). */
function specDir(files: Record<string, string>): string {
  const dir = tempDir("grpc-modes");
  for (const [name, example] of Object.entries(files)) copyFileSync(new URL(example, EXAMPLES), join(dir, name));
  return dir;
}

async function refusal(call: Promise<unknown>): Promise<ServiceError> {
  const err = await call.then(() => undefined, (e: unknown) => e as ServiceError);
  if (err === undefined) throw new Error("the call was accepted");
  return err;
}

function start(args: string[]): Promise<Corral> {
  return startCorral(resolveOptions(["--listen", "127.0.0.1:0", "--store", "memory", "--cluster", "sim", ...args], {}), logger);
}

describe("a scheduler in static mode", () => {
  let corral: Corral;
  let admin: AdminClient;

  beforeAll(async () => {
    const dir = specDir({ "hello-world.yml": "hello-world.yml", "simple.yaml": "simple.yml", "notes.txt": "simple.yml" });
    corral = await start(["--mode", "static", "--services", dir]);
    admin = createAdminClient({ address: corral.address });
  });

  afterAll(async () => {
    admin?.close();
    await corral?.stop();
  });

  it("runs the directory's spec files as its services, named by their base names", async () => {
    expect((await admin.listServices({})).services.map((s) => s.name)).toEqual(["hello-world", "simple"]);
    expect((await admin.getService({ name: "simple" })).service?.name).toBe("simple");
  });

  it("reports mode static and schema 2", async () => {
    expect(await admin.getScheduler({})).toMatchObject({ serviceMode: ServiceMode.STATIC, schemaVersion: 2, services: 2 });
    const r = await runCli(["scheduler"], { server: corral.address });
    expect(r.code, shown(r)).toBe(0);
    expect(r.stdout).toMatch(/^mode: +static\nschema: +2$/m);
  });

  it("answers PutService and UninstallService FAILED_PRECONDITION naming the mode, changing nothing", async () => {
    const says = "the scheduler runs in static mode: its services come from its spec files (--services); change the files and restart it";
    const put = await refusal(admin.putService({ name: "other", spec: "name: other\npods: {}\n" }));
    expect(put.code).toBe(GrpcStatus.FAILED_PRECONDITION);
    expect(put.details).toBe(says);
    const uninstall = await refusal(admin.uninstallService({ name: "simple" }));
    expect(uninstall.code).toBe(GrpcStatus.FAILED_PRECONDITION);
    expect(uninstall.details).toBe(says);
    expect((await admin.listServices({})).services.map((s) => [s.name, s.removalId])).toEqual([
      ["hello-world", 0n],
      ["simple", 0n],
    ]);
  });
});

describe("a scheduler in mono mode", () => {
  let corral: Corral;
  let admin: AdminClient;

  beforeAll(async () => {
    const dir = specDir({ "svc.yml": "hello-world.yml" });
    corral = await start(["--mode", "mono", "--framework-name", "hello-world", "--service", join(dir, "svc.yml")]);
    admin = createAdminClient({ address: corral.address });
  });

  afterAll(async () => {
    admin?.close();
    await corral?.stop();
  });

  it("runs its one service named like the framework, reports mode mono and schema 1, and refuses puts naming --service", async () => {
    expect((await admin.listServices({})).services.map((s) => s.name)).toEqual(["hello-world"]);
    expect(await admin.getScheduler({})).toMatchObject({ serviceMode: ServiceMode.MONO, schemaVersion: 1, services: 1 });
    const put = await refusal(admin.putService({ name: "hello-world", spec: "name: hello-world\npods: {}\n" }));
    expect(put.code).toBe(GrpcStatus.FAILED_PRECONDITION);
    expect(put.details).toBe("the scheduler runs in mono mode: its service comes from its spec file (--service); change the file and restart it");
    expect((await refusal(admin.uninstallService({ name: "hello-world" }))).code).toBe(GrpcStatus.FAILED_PRECONDITION);
  });
});

describe("a dynamic scheduler", () => {
  it("reports mode dynamic and schema 2", async () => {
    const corral = await start([]);
    const admin = createAdminClient({ address: corral.address });
    try {
      expect(await admin.getScheduler({})).toMatchObject({ serviceMode: ServiceMode.DYNAMIC, schemaVersion: 2 });
    } finally {
      admin.close();
      await corral.stop();
    }
  });
});

describe("a static start that cannot read its files", () => {
  it("stops before serving, naming the file", async () => {
    const dir = tempDir("grpc-modes");
    writeFileSync(join(dir, "notes.txt"), "not a spec");
    await expect(start(["--mode", "static", "--services", dir])).rejects.toThrow(`--services ${dir}: the directory holds no spec file (*.yml or *.yaml)`);
    await expect(start(["--mode", "static", "--services", join(dir, "gone.yml")])).rejects.toThrow(`--services ${join(dir, "gone.yml")}: cannot read it: no such file or directory`);
  });
});

describe("the migration and its rollback through the scheduler's start (SQLite)", () => {
  const seen = async (admin: AdminClient) => ({ ...(await admin.getScheduler({})), names: (await admin.listServices({})).services.map((s) => s.name) });

  /** Starts a scheduler on `dataDir`'s SQLite store as hello-world, runs `check` on its API, stops it. */
  async function run<T>(dataDir: string, args: string[], check: (admin: AdminClient) => Promise<T>): Promise<T> {
    const options = resolveOptions(["--listen", "127.0.0.1:0", "--cluster", "sim", "--data-dir", dataDir, "--framework-name", "hello-world", ...args], {});
    const corral = await startCorral(options, logger);
    const admin = createAdminClient({ address: corral.address });
    try {
      return await check(admin);
    } finally {
      admin.close();
      await corral.stop();
    }
  }

  const storeOptions = (dataDir: string) => resolveOptions(["--data-dir", dataDir, "--framework-name", "hello-world", "--cluster", "sim"], {});
  const monoArgs = (specs: string) => ["--mode", "mono", "--service", join(specs, "hello-world.yml")];

  it("mono, then static with a file named like the framework (schema 2, a backup), then the backup restored runs mono again", async () => {
    const dataDir = tempDir("grpc-modes");
    const specs = specDir({ "hello-world.yml": "hello-world.yml" });
    expect(await run(dataDir, monoArgs(specs), seen)).toMatchObject({ serviceMode: ServiceMode.MONO, schemaVersion: 1, names: ["hello-world"] });
    expect(await run(dataDir, ["--mode", "static", "--services", specs], seen)).toMatchObject({ serviceMode: ServiceMode.STATIC, schemaVersion: 2, names: ["hello-world"] });
    // Back to mono without the rollback: refused, the store stays multi.
    await expect(run(dataDir, monoArgs(specs), seen)).rejects.toThrow(/--restore-backup/);

    const [backup] = await runStoreCommand({ kind: "list-backups" }, storeOptions(dataDir), logger);
    expect(backup).toMatch(/^backup-\d{4}-\d\d-\d\d-\d{6}$/);
    expect((await runStoreCommand({ kind: "restore-backup" }, storeOptions(dataDir), logger))[0]).toContain(`restored ${backup}`);
    expect(await run(dataDir, monoArgs(specs), seen)).toMatchObject({ serviceMode: ServiceMode.MONO, schemaVersion: 1, names: ["hello-world"] });
  });

  it("the restore is refused while a service added since the migration is stored", async () => {
    const dataDir = tempDir("grpc-modes");
    const specs = specDir({ "hello-world.yml": "hello-world.yml", "simple.yml": "simple.yml" });
    await run(dataDir, monoArgs(specs), seen);
    expect(await run(dataDir, ["--mode", "static", "--services", specs], seen)).toMatchObject({ schemaVersion: 2, names: ["hello-world", "simple"] });
    await expect(runStoreCommand({ kind: "restore-backup" }, storeOptions(dataDir), logger)).rejects.toThrow(
      /the store holds services besides 'hello-world' \(simple\): a mono scheduler would leave them/,
    );
    expect(await run(dataDir, ["--mode", "static", "--services", specs], seen)).toMatchObject({ schemaVersion: 2, names: ["hello-world", "simple"] });
  });
});
