/**
 * GetEndpoints through the façade (MultiServiceScheduler.getEndpoints) on the simulated cluster:
 * the endpoint names (and VIPs) come from the spec — listed before any task runs — and the
 * addresses and DNS names from the stored records of the running tasks (their DiscoveryInfo
 * ports, the agent hostname label); one endpoint picked by port name; unknown service or port
 * name is NOT_FOUND naming it.
 */
import { describe, expect, it } from "vitest";
import type { SchedulerError } from "../../src/domain/errors.js";
import { createHarness } from "../harness/harness.js";

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
        ports:
          http: { port: 0, advertise: true }
          rpc: { port: 0, vip: { prefix: web, port: 80 } }
          admin: { port: 0 }
  jobs:
    count: 1
    tasks:
      worker:
        goal: RUNNING
        cmd: sleep 1000
        cpus: 0.1
        memory: 32
        ports:
          metrics: { port: 0, advertise: true }
`;

const PLAIN = `
name: {{SERVICE_NAME}}
pods:
  web:
    count: 1
    tasks:
      server: { goal: RUNNING, cmd: sleep 1000, cpus: 0.1, memory: 32 }
`;

async function rejected(p: Promise<unknown>): Promise<SchedulerError> {
  try {
    await p;
  } catch (e) {
    return e as SchedulerError;
  }
  throw new Error("expected a rejection");
}

describe("GetEndpoints", () => {
  it("lists the spec's advertised and VIP ports before any task runs, with no addresses", async () => {
    const h = await createHarness();
    await h.scheduler.putService({ name: "site", spec: SPEC, parameters: {} });
    expect(h.cluster.tasks().filter((t) => t.state === "TASK_RUNNING")).toEqual([]);
    expect(await h.scheduler.getEndpoints("site")).toEqual([
      { name: "http", addresses: [], dns: [] },
      { name: "metrics", addresses: [], dns: [] },
      { name: "rpc", addresses: [], dns: [], vip: "web.corral.l4lb.thisdcos.directory:80" },
    ]);
    expect(await h.scheduler.getEndpoints("site", "rpc")).toEqual([
      { name: "rpc", addresses: [], dns: [], vip: "web.corral.l4lb.thisdcos.directory:80" },
    ]);
  });

  it("fills in the host:port and DNS name of each running task, across pods, and one by port name", async () => {
    const h = await createHarness();
    await h.scheduler.putService({ name: "site", spec: SPEC, parameters: {} });
    await h.deployAll(["site"]);
    const running = new Map(h.cluster.tasks().filter((t) => t.state === "TASK_RUNNING").map((t) => [t.name, t.info]));
    const portOf = (task: string, env: string): string => running.get(task)!.command.environment[env]!;
    const hostOf = (task: string): string => running.get(task)!.labels.offer_hostname!;
    const all = await h.scheduler.getEndpoints("site");
    expect(all.map((e) => e.name)).toEqual(["http", "metrics", "rpc"]);
    expect(all[0]).toEqual({
      name: "http",
      addresses: ["web-0-server", "web-1-server"].map((t) => `${hostOf(t)}:${portOf(t, "PORT_HTTP")}`).sort(),
      dns: ["web-0-server", "web-1-server"].map((t) => `${t}.corral.autoip.dcos.thisdcos.directory:${portOf(t, "PORT_HTTP")}`),
    });
    expect(all[1]).toEqual({
      name: "metrics",
      addresses: [`${hostOf("jobs-0-worker")}:${portOf("jobs-0-worker", "PORT_METRICS")}`],
      dns: [`jobs-0-worker.corral.autoip.dcos.thisdcos.directory:${portOf("jobs-0-worker", "PORT_METRICS")}`],
    });
    // The task environment names the same DNS name: $TASK_NAME.$FRAMEWORK_HOST.
    const env = running.get("jobs-0-worker")!.command.environment;
    expect(all[1]!.dns[0]).toBe(`${env["TASK_NAME"]}.${env["FRAMEWORK_HOST"]}:${env["PORT_METRICS"]}`);
    expect(all[2]!.vip).toBe(`web.${running.get("web-0-server")!.command.environment["FRAMEWORK_VIP_HOST"]}:80`);
    expect(await h.scheduler.getEndpoints("site", "rpc")).toEqual([expect.objectContaining({ name: "rpc", vip: "web.corral.l4lb.thisdcos.directory:80" })]);
  });

  it("answers NOT_FOUND naming an unknown service or port name (listing the spec's), and INVALID_ARGUMENT for a bad name", async () => {
    const h = await createHarness();
    await h.scheduler.putService({ name: "site", spec: SPEC, parameters: {} });
    await h.scheduler.putService({ name: "plain", spec: PLAIN, parameters: {} });
    expect(await rejected(h.scheduler.getEndpoints("nope"))).toMatchObject({ code: "not_found", message: "service 'nope' not found" });
    expect(await h.scheduler.getEndpoints("plain")).toEqual([]);
    expect(await rejected(h.scheduler.getEndpoints("plain", "http"))).toMatchObject({
      code: "not_found",
      message: "service 'plain' has no endpoint 'http' (it has none)",
    });
    // A port neither advertised nor on a VIP is not an endpoint.
    expect(await rejected(h.scheduler.getEndpoints("site", "admin"))).toMatchObject({
      code: "not_found",
      message: "service 'site' has no endpoint 'admin' (endpoints: http, metrics, rpc)",
    });
    expect(await rejected(h.scheduler.getEndpoints("Bad Name!"))).toMatchObject({ code: "invalid_argument" });
  });
});
