/**
 * GetEndpoints through the façade (MultiServiceScheduler.getEndpoints) on the simulated cluster:
 * read from the stored task records (their DiscoveryInfo ports, the agent hostname label), only
 * running tasks, one endpoint picked by port name; unknown service or port name is NOT_FOUND
 * naming it.
 */
import { describe, expect, it } from "vitest";
import type { TaskInfo } from "../../src/domain/cluster.js";
import type { SchedulerError } from "../../src/domain/errors.js";
import { decodeJson, encodeJson } from "../../src/engine/store/codec.js";
import * as layout from "../../src/engine/store/layout.js";
import { createHarness } from "../harness/harness.js";
import type { Harness } from "../harness/harness.js";

const SPEC = `
name: {{SERVICE_NAME}}
pods:
  web:
    count: 2
    tasks:
      server:
        goal: RUNNING
        cmd: sleep 1000
        cpus: 0.1
        memory: 32
`;

async function rejected(p: Promise<unknown>): Promise<SchedulerError> {
  try {
    await p;
  } catch (e) {
    return e as SchedulerError;
  }
  throw new Error("expected a rejection");
}

/** Gives each stored task of `service` the DiscoveryInfo ports an advertised `http` port (and a VIP) would. */
async function advertise(h: Harness, service: string): Promise<void> {
  const names = await h.persister.children(layout.tasksPath(service));
  for (const [i, name] of names.entries()) {
    const path = layout.taskInfoPath(service, name);
    const info = decodeJson<TaskInfo>((await h.persister.get(path))!.data);
    const ports = [
      { number: 8080 + i, name: "http", protocol: "tcp", visibility: "EXTERNAL" as const },
      { number: 9000 + i, name: "rpc", protocol: "tcp", visibility: "CLUSTER" as const, labels: { VIP_1: "web:80" } },
    ];
    await h.persister.multi([{ kind: "set", path, data: encodeJson({ ...info, discovery: { visibility: "CLUSTER", ports } }) }]);
  }
}

describe("GetEndpoints", () => {
  it("lists the advertised ports of the running tasks from their records, and one by port name", async () => {
    const h = await createHarness();
    await h.scheduler.putService({ name: "site", spec: SPEC, parameters: {} });
    await h.deployAll(["site"]);
    expect(await h.scheduler.getEndpoints("site")).toEqual([]);

    await advertise(h, "site");
    const hosts = new Map(h.cluster.tasks().filter((t) => t.state === "TASK_RUNNING").map((t) => [t.name, t.info.labels.offer_hostname]));
    const all = await h.scheduler.getEndpoints("site");
    expect(all.map((e) => e.name)).toEqual(["http", "rpc"]);
    expect(all[0]).toEqual({
      name: "http",
      addresses: [`${hosts.get("web-0-server")}:8080`, `${hosts.get("web-1-server")}:8081`].sort(),
      dns: ["web-0-server.corral.autoip.dcos.thisdcos.directory:8080", "web-1-server.corral.autoip.dcos.thisdcos.directory:8081"],
    });
    expect(await h.scheduler.getEndpoints("site", "rpc")).toEqual([
      expect.objectContaining({ name: "rpc", vip: "web.corral.l4lb.thisdcos.directory:80" }),
    ]);
  });

  it("answers NOT_FOUND naming an unknown service or port name, and INVALID_ARGUMENT for a bad name", async () => {
    const h = await createHarness();
    await h.scheduler.putService({ name: "site", spec: SPEC, parameters: {} });
    await h.deployAll(["site"]);
    expect(await rejected(h.scheduler.getEndpoints("nope"))).toMatchObject({ code: "not_found", message: "service 'nope' not found" });
    expect(await rejected(h.scheduler.getEndpoints("site", "http"))).toMatchObject({
      code: "not_found",
      message: "service 'site' has no endpoint 'http' (it has none)",
    });
    await advertise(h, "site");
    expect(await rejected(h.scheduler.getEndpoints("site", "admin"))).toMatchObject({
      code: "not_found",
      message: "service 'site' has no endpoint 'admin' (endpoints: http, rpc)",
    });
    expect(await rejected(h.scheduler.getEndpoints("Bad Name!"))).toMatchObject({ code: "invalid_argument" });
  });
});
