/** The scheduler on a real ZooKeeper store, through the real composition root. */
import { readFileSync } from "node:fs";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { startCorral } from "../../src/app.js";
import type { Corral } from "../../src/app.js";
import { Status, createAdminClient } from "../../src/client/index.js";
import { resolveOptions } from "../../src/config.js";
import { useZooKeeper } from "../zk/use-zookeeper.js";

const zk = useZooKeeper();
const spec = readFileSync(new URL("../../examples/simple.yml", import.meta.url), "utf8");

async function start(store: string): Promise<Corral> {
  return startCorral(resolveOptions(["--listen", "127.0.0.1:0", "--store", store], {}), pino({ level: "silent" }));
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
  it("keeps services across a restart, under <chroot>/dcos-service-<name>, with one scheduler at a time", async () => {
    const store = `zk://${zk().connect}/corral-e2e-${process.pid}`;
    const first = await start(store);
    const client = createAdminClient({ address: first.address, defaultDeadlineMs: 5000 });
    await client.putService({ name: "team/simple", spec, parameters: {} });
    client.close();
    await deployed(first, "team/simple");

    // A second scheduler on the same root is refused while the first holds it.
    await expect(start(store)).rejects.toMatchObject({ code: "failed_precondition" });
    await first.stop();

    const second = await start(store);
    try {
      expect(second.scheduler.listServices().map((s) => s.name)).toEqual(["team/simple"]);
      const children = await second.persister.children("ServiceList");
      expect(children).toEqual(["team__simple"]);
      expect(new TextDecoder().decode((await second.persister.get("SchemaVersion"))!.data)).toBe("2");
      // A new (simulated) cluster knows none of the old tasks: the service deploys again.
      await deployed(second, "team/simple");
    } finally {
      await second.stop();
    }
  });
});
