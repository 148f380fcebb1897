/**
 * The SQLite store's write fence through the real composition root: once the data-directory
 * lock file was removed and taken by another holder, the scheduler writes nothing more — a put
 * answers UNAVAILABLE and the store keeps what it had — while it still answers reads.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { startCorral } from "../../src/app.js";
import { Health, HealthCheckResponse_ServingStatus, createPromiseClient } from "../../src/client/index.js";
import { resolveOptions } from "../../src/config.js";
import { LOCK_FILE, acquireDataDirLock } from "../../src/adapters/file-lock.js";
import { example } from "../harness/harness.js";
import { dumpStore } from "../engine/store-dump.js";
import { tempDataDir } from "../local/local-harness.js";

describe("the SQLite write fence", () => {
  it("stops every write once the data-directory lock was taken from the scheduler", async () => {
    const dataDir = tempDataDir("fence");
    const corral = await startCorral(resolveOptions(["--listen", "127.0.0.1:0", "--cluster", "sim", "--data-dir", dataDir], {}), pino({ level: "silent" }));
    let thief: Awaited<ReturnType<typeof acquireDataDirLock>> | undefined;
    try {
      await corral.scheduler.putService({ name: "hello", spec: example("simple.yml"), parameters: {} });
      rmSync(join(dataDir, LOCK_FILE));
      thief = await acquireDataDirLock(dataDir);
      const before = await dumpStore(corral.persister);
      await expect(corral.scheduler.putService({ name: "other", spec: example("simple.yml"), parameters: {} })).rejects.toMatchObject({
        code: "unavailable",
      });
      await expect(corral.scheduler.uninstallService("hello")).rejects.toMatchObject({ code: "unavailable" });
      // The scheduler keeps running (offer cycles, statuses) but nothing reaches the store.
      await new Promise((r) => setTimeout(r, 1500));
      expect(await dumpStore(corral.persister)).toEqual(before);
      expect(corral.scheduler.listServices().map((s) => s.name)).toEqual(["hello"]);
      // Health says so: a supervisor sees a scheduler that may not act.
      const health = createPromiseClient(Health, corral.address);
      try {
        expect((await health.check({})).status).toBe(HealthCheckResponse_ServingStatus.NOT_SERVING);
      } finally {
        health.close();
      }
    } finally {
      await corral.stop();
      await thief?.release();
    }
  }, 30_000);
});
