/** The scheduler on a real ZooKeeper store, through the real composition root. */
import { readFileSync } from "node:fs";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { startCorral } from "../../src/app.js";
import type { Corral } from "../../src/app.js";
import * as grpc from "@grpc/grpc-js";
import { leaderOf } from "../../src/adapters/grpc/status.js";
import { MultiServiceAdmin, Status, createAdminClient, createPromiseClient } from "../../src/client/index.js";
import { resolveOptions } from "../../src/config.js";
import { liveTaskIds } from "../local/agent-world.js";
import { killEverything, tempDataDir } from "../local/local-harness.js";
import { useZooKeeper } from "../zk/use-zookeeper.js";

const zk = useZooKeeper();
const spec = readFileSync(new URL("../../examples/simple.yml", import.meta.url), "utf8");

async function start(store: string, dataDir: string): Promise<Corral> {
  const argv = ["--listen", "127.0.0.1:0", "--store", store, "--cluster", "local", "--data-dir", dataDir];
  return startCorral(resolveOptions(argv, { PATH: process.env["PATH"] }), pino({ level: "silent" }));
}

/** The live tasks the data directory's agent runs. */
const taskIds = liveTaskIds;

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await killEverything(dir);
});

function newDir(): string {
  const dir = tempDataDir();
  dirs.push(dir);
  return dir;
}

async function deployed(corral: Corral, name: string): Promise<void> {
  const client = createAdminClient({ address: corral.address, defaultDeadlineMs: 5000 });
  try {
    for (;;) {
      const { plan } = await client.getPlan({ name });
      if (plan?.status === Status.COMPLETE) return;
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    client.close();
  }
}

describe("--store zk://", () => {
  it("keeps services, plans and task ids across a restart, under <chroot>/dcos-service-<name>, with one scheduler at a time", async () => {
    const store = `zk://${zk().connect}/corral-e2e-${process.pid}`;
    const dir = newDir();
    const first = await start(store, dir);
    const client = createAdminClient({ address: first.address, defaultDeadlineMs: 5000 });
    await client.putService({ name: "team/simple", spec, parameters: {} });
    await client.putService({ name: "other", spec, parameters: {} });
    client.close();
    await deployed(first, "team/simple");
    await deployed(first, "other");
    const before = await taskIds(dir);
    expect(before).toHaveLength(2);

    // A second scheduler on the same root (its own data directory) stands by while the first
    // leads: admin calls answer UNAVAILABLE naming the leader, and it runs no scheduler.
    const standby = await start(store, newDir());
    const raw = createPromiseClient(MultiServiceAdmin, standby.address, undefined, { defaultDeadlineMs: 5000 });
    try {
      const refused = await raw.listServices({}).then(() => undefined, (err: unknown) => err);
      expect(refused).toMatchObject({ code: grpc.status.UNAVAILABLE });
      expect(leaderOf((refused as { metadata?: grpc.Metadata }).metadata)).toBe(first.address);
      expect(() => standby.scheduler).toThrow(/not led/);
    } finally {
      raw.close();
      await standby.stop();
    }
    await first.stop();

    const second = await start(store, dir);
    try {
      expect(second.scheduler.listServices().map((s) => s.name)).toEqual(["other", "team/simple"]);
      const children = await second.persister.children("ServiceList");
      expect(children).toEqual(["other", "team__simple"]);
      expect(new TextDecoder().decode((await second.persister.get("SchemaVersion"))!.data)).toBe("2");
      await deployed(second, "team/simple");
      await deployed(second, "other");
      // The same task processes, re-adopted: nothing was launched again.
      expect(await taskIds(dir)).toEqual(before);
    } finally {
      await second.stop();
    }
  });
});
