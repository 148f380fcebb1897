import { describe, expect, it } from "vitest";
import type { DiscoveryInfo, TaskInfo, TaskState } from "../domain/cluster.js";
import type { StoredTask } from "../domain/service/task-record.js";
import type { PortSpec, ServiceSpec } from "../domain/spec/types.js";
import { podSpec, resourceSet, taskSpec } from "../domain/offer/test-kit.js";
import { endpointsOf } from "./service-endpoints.js";

function task(name: string, host: string | undefined, ports: DiscoveryInfo["ports"], state: TaskState = "TASK_RUNNING"): StoredTask {
  const taskId = `svc__${name}__1`;
  const info: TaskInfo = {
    name,
    taskId,
    agentId: "a1",
    resources: [],
    command: { value: "sleep 1", environment: {} },
    labels: host === undefined ? {} : { offer_hostname: host },
    discovery: { visibility: "CLUSTER", ...(ports ? { ports } : {}) },
  };
  return { info, confirmed: true, status: { taskId, state, timestampMs: 1 } };
}

describe("endpointsOf without a spec: from the running tasks", () => {
  it("lists each advertised port name with the host:port and DNS name of every running task, sorted", () => {
    const tasks = [
      task("hello-1-server", "h2", [{ number: 1025, name: "http", protocol: "tcp", visibility: "EXTERNAL" }]),
      task("hello-0-server", "h1", [
        { number: 1024, name: "http", protocol: "tcp", visibility: "EXTERNAL" },
        { number: 2000, name: "admin", protocol: "tcp" },
      ]),
    ];
    expect(endpointsOf(tasks, "team/svc", "/corral/fw")).toEqual([
      { name: "admin", addresses: ["h1:2000"], dns: ["hello-0-server.corralfw.autoip.dcos.thisdcos.directory:2000"] },
      {
        name: "http",
        addresses: ["h1:1024", "h2:1025"],
        dns: ["hello-0-server.corralfw.autoip.dcos.thisdcos.directory:1024", "hello-1-server.corralfw.autoip.dcos.thisdcos.directory:1025"],
      },
    ]);
  });

  it("names a VIP by its prefix under the framework, also for a port not otherwise advertised", () => {
    const tasks = [task("db-0-node", "h1", [{ number: 9042, name: "native", protocol: "tcp", visibility: "CLUSTER", labels: { VIP_abc: "node:9042" } }])];
    expect(endpointsOf(tasks, "svc", "corral")).toEqual([
      {
        name: "native",
        addresses: ["h1:9042"],
        dns: ["db-0-node.corral.autoip.dcos.thisdcos.directory:9042"],
        vip: "node.corral.l4lb.thisdcos.directory:9042",
      },
    ]);
  });

  it("leaves out tasks that are not running, ports not advertised or without a name, and tasks without discovery", () => {
    const { discovery: _, ...bare } = task("c-0-x", "h", []).info;
    const noDiscovery: StoredTask = { info: bare, confirmed: true, status: { taskId: bare.taskId, state: "TASK_RUNNING", timestampMs: 1 } };
    const tasks = [
      task("a-0-x", "h1", [{ number: 1, name: "p", protocol: "tcp" }], "TASK_FAILED"),
      task("b-0-x", "h1", [
        { number: 2, name: "hidden", protocol: "tcp", visibility: "CLUSTER" },
        { number: 3, protocol: "tcp", visibility: "EXTERNAL" },
      ]),
      noDiscovery,
    ];
    expect(endpointsOf(tasks, "svc", "corral")).toEqual([]);
  });

  it("names a task in DNS by its DiscoveryInfo name when it has one", () => {
    const t = task("db-1-node", "h1", [{ number: 9, name: "p", protocol: "tcp" }]);
    const named: StoredTask = { ...t, info: { ...t.info, discovery: { ...t.info.discovery!, name: "node-1" } } };
    expect(endpointsOf([named], "svc", "corral")[0]!.dns).toEqual(["node-1.corral.autoip.dcos.thisdcos.directory:9"]);
  });

  it("does not take a status of an earlier launch for this one's", () => {
    const t = task("a-0-x", "h1", [{ number: 1, name: "p", protocol: "tcp" }]);
    const relaunched: StoredTask = { ...t, info: { ...t.info, taskId: "svc__a-0-x__2" } };
    expect(endpointsOf([relaunched], "svc", "corral")).toEqual([]);
  });
});

function specWith(pods: Record<string, readonly PortSpec[]>): ServiceSpec {
  return {
    name: "svc",
    pods: Object.entries(pods).map(([type, ports]) => ({ ...podSpec([taskSpec("t")], {}, [resourceSet("t-rs", { ports })]), type })),
    plans: [],
  };
}

describe("endpointsOf with the spec: its names and VIPs, the running tasks' addresses", () => {
  const spec = specWith({
    web: [
      { name: "http", port: 0, envKey: "PORT_HTTP", advertise: true },
      { name: "admin", port: 0, envKey: "PORT_ADMIN" },
      { name: "rpc", port: 0, envKey: "PORT_RPC", vip: { prefix: "team/web", port: 80, protocol: "tcp" } },
    ],
    jobs: [
      { name: "http", port: 0, envKey: "PORT_HTTP", advertise: true, vip: { prefix: "late", port: 81, protocol: "tcp" } },
      { name: "metrics", port: 9100, envKey: "PORT_METRICS", advertise: true },
    ],
  });

  it("lists every advertised or VIP port of every pod by name, with empty lists when no task runs", () => {
    expect(endpointsOf([], "svc", "/corral/fw", spec)).toEqual([
      { name: "http", addresses: [], dns: [], vip: "late.corralfw.l4lb.thisdcos.directory:81" },
      { name: "metrics", addresses: [], dns: [] },
      { name: "rpc", addresses: [], dns: [], vip: "teamweb.corralfw.l4lb.thisdcos.directory:80" },
    ]);
  });

  it("adds the running tasks' ports by name; ports the spec does not list and stopped tasks are left out", () => {
    const tasks = [
      task("web-0-t", "h1", [
        { number: 1024, name: "http", protocol: "tcp", visibility: "EXTERNAL" },
        { number: 1025, name: "old", protocol: "tcp", visibility: "EXTERNAL" },
      ]),
      task("jobs-0-t", "h2", [{ number: 9100, name: "metrics", protocol: "tcp", visibility: "EXTERNAL" }]),
      task("web-1-t", "h3", [{ number: 1030, name: "http", protocol: "tcp", visibility: "EXTERNAL" }], "TASK_FAILED"),
    ];
    expect(endpointsOf(tasks, "svc", "corral", spec)).toEqual([
      { name: "http", addresses: ["h1:1024"], dns: ["web-0-t.corral.autoip.dcos.thisdcos.directory:1024"], vip: "late.corral.l4lb.thisdcos.directory:81" },
      { name: "metrics", addresses: ["h2:9100"], dns: ["jobs-0-t.corral.autoip.dcos.thisdcos.directory:9100"] },
      { name: "rpc", addresses: [], dns: [], vip: "teamweb.corral.l4lb.thisdcos.directory:80" },
    ]);
  });

  it("takes the VIP from the spec, not from a task's label of an earlier config", () => {
    const tasks = [task("web-0-t", "h1", [{ number: 7, name: "rpc", protocol: "tcp", visibility: "CLUSTER", labels: { VIP_rpc: "old:99" } }])];
    expect(endpointsOf(tasks, "svc", "corral", spec).find((e) => e.name === "rpc")?.vip).toBe("teamweb.corral.l4lb.thisdcos.directory:80");
  });

  it("has none for a spec without advertised or VIP ports, whatever its tasks carry", () => {
    const tasks = [task("web-0-t", "h1", [{ number: 1, name: "http", protocol: "tcp", visibility: "EXTERNAL" }])];
    expect(endpointsOf(tasks, "svc", "corral", specWith({ web: [{ name: "http", port: 0, envKey: "P" }] }))).toEqual([]);
  });
});
