import { describe, expect, it } from "vitest";
import type { ExecutorInfo } from "../cluster.js";
import type { PodSpec, TaskSpec } from "../spec/types.js";
import { executorContainer } from "./container-info.js";
import { buildTaskInfo } from "./task-info.js";
import { plentyOffer, podSpec, resourceSet, taskSpec, testCtx } from "./test-kit.js";

const EXECUTOR: ExecutorInfo = { executorId: "svc__pod__e1", frameworkId: "fw-1", resources: [], labels: {} };

function build(pod: PodSpec, task: TaskSpec = pod.tasks[0]!, ports: number[] = []) {
  const resources = ports.map((p) => ({ name: "ports", type: "RANGES" as const, ranges: [{ begin: p, end: p }] }));
  return buildTaskInfo(testCtx(), pod, 2, task, plentyOffer(), resources, EXECUTOR);
}

describe("buildTaskInfo: the spec surface", () => {
  it("adds nothing new for a plain spec: no container, discovery, limits, uris or secret env", () => {
    const info = build(podSpec([taskSpec("server")]));
    expect(info.container).toBeUndefined();
    expect(info.discovery).toBeUndefined();
    expect(info.limits).toBeUndefined();
    expect(info.command.uris).toBeUndefined();
    expect(info.command.secretEnvironment).toBeUndefined();
    expect(info.executor).toBe(EXECUTOR);
  });

  it("gives the reference's task environment: the service as FRAMEWORK_NAME, the framework's DNS and VIP domains", () => {
    const ctx = { ...testCtx(), service: "team/web", sanitizedService: "team.web", frameworkName: "/dcos/corral" };
    const info = buildTaskInfo(ctx, podSpec([taskSpec("server")]), 2, taskSpec("server"), plentyOffer(), [], EXECUTOR);
    expect(info.command.environment).toMatchObject({
      TASK_NAME: "pod-2-server",
      POD_INSTANCE_INDEX: "2",
      FRAMEWORK_NAME: "team/web",
      SERVICE_NAME: "team/web",
      FRAMEWORK_HOST: "dcoscorral.autoip.dcos.thisdcos.directory",
      FRAMEWORK_VIP_HOST: "dcoscorral.l4lb.thisdcos.directory",
    });
    // No per-service HTTP API to point at.
    expect(Object.keys(info.command.environment)).not.toContain("SCHEDULER_API_HOSTNAME");
    expect(Object.keys(info.command.environment)).not.toContain("SCHEDULER_API_PORT");
  });

  it("fetches the pod's uris (extracted, not executable) and passes secrets with an env-key by reference", () => {
    const pod = podSpec([taskSpec("server")], {
      uris: ["https://example.com/app.tgz", "file:///opt/tool"],
      secrets: [
        { key: "s1", secret: "svc/secret1", envKey: "SECRET1" },
        { key: "s2", secret: "svc/secret2", file: "conf/secret2" },
      ],
    });
    const info = build(pod);
    expect(info.command.uris).toEqual([
      { value: "https://example.com/app.tgz", executable: false, extract: true },
      { value: "file:///opt/tool", executable: false, extract: true },
    ]);
    expect(info.command.secretEnvironment).toEqual({ SECRET1: { name: "svc/secret1" } });
    // The value never sits in the plain environment.
    expect(Object.keys(info.command.environment)).not.toContain("SECRET1");
    expect(info.container?.volumes).toEqual([{ containerPath: "conf/secret2", mode: "RO", source: { type: "SECRET", secret: { name: "svc/secret2" } } }]);
  });

  it("builds the task's MESOS container: image, host volumes, secret files, pod volumes from the executor's sandbox, Linux settings, rlimits", () => {
    const pod = podSpec([taskSpec("server", { ipcMode: "SHARE_PARENT" }), taskSpec("other")], {
      image: "ubuntu:18.04",
      hostVolumes: [{ key: "etc", hostPath: "/etc", containerPath: "host-etc", mode: "RO" }],
      secrets: [{ key: "s", secret: "svc/s", file: "s.txt" }],
      volumes: [{ path: "shared", type: "ROOT", sizeMb: 10 }],
      sharePidNamespace: true,
      seccomp: { unconfined: false, profileName: "strict" },
      ipcMode: "PRIVATE",
      shmSizeMb: 128,
      rlimits: [{ name: "RLIMIT_NOFILE", soft: 1024, hard: 2048 }, { name: "RLIMIT_CORE" }],
    });
    const server = build(pod);
    expect(server.container).toEqual({
      type: "MESOS",
      image: "ubuntu:18.04",
      volumes: [
        { containerPath: "host-etc", mode: "RO", source: { type: "HOST_PATH", hostPath: { path: "/etc" } } },
        { containerPath: "s.txt", mode: "RO", source: { type: "SECRET", secret: { name: "svc/s" } } },
        { containerPath: "shared", mode: "RW", source: { type: "SANDBOX_PATH", sandboxPath: { type: "PARENT", path: "shared" } } },
      ],
      // The task's ipc-mode wins over the pod's; SHARE_PARENT takes no size (Mesos refuses one).
      linuxInfo: { sharePidNamespace: true, seccomp: { unconfined: false, profileName: "strict" }, ipcMode: "SHARE_PARENT" },
      rlimitInfo: { rlimits: [{ type: "RLMT_NOFILE", soft: 1024, hard: 2048 }, { type: "RLMT_CORE" }] },
    });
    expect(build(pod, pod.tasks[1]).container?.linuxInfo).toMatchObject({ ipcMode: "PRIVATE", shmSize: 128 });
    // Networks are not the task's: Mesos takes them on the executor of a task group only.
    expect(server.container?.networkInfos).toBeUndefined();
  });

  it("puts the pod's networks, with labels and host→container port mappings, on the executor's container", () => {
    const pod = podSpec([taskSpec("server")], {
      networks: [
        { name: "dcos", hostPorts: [8080, 9090], containerPorts: [80, 90], labels: { key0: "val0" } },
        { name: "bridge", hostPorts: [], containerPorts: [], labels: {} },
      ],
    });
    expect(executorContainer(pod)).toEqual({
      type: "MESOS",
      networkInfos: [
        { name: "dcos", labels: { key0: "val0" }, portMappings: [{ hostPort: 8080, containerPort: 80 }, { hostPort: 9090, containerPort: 90 }] },
        { name: "bridge" },
      ],
    });
    expect(executorContainer(podSpec([taskSpec("server")]))).toBeUndefined();
  });

  it("merges the spec's labels under Corral's own: Corral's keys win, a permanently-failed label is dropped", () => {
    const task = taskSpec("server", { labels: { team: "a", goal: "FINISH", index: "9", "permanently-failed": "true" } });
    const info = build(podSpec([task]));
    expect(info.labels).toMatchObject({ team: "a", goal: "RUNNING", index: "2", task_type: "pod", target_configuration: "cfg-1" });
    expect(info.labels["permanently-failed"]).toBeUndefined();
  });

  it("sets TaskInfo.limits from the resource set's resource-limits, Infinity for unlimited", () => {
    const set = resourceSet("server-rs", { limits: { cpus: Infinity, memoryMb: 512 } });
    expect(build(podSpec([taskSpec("server")], {}, [set])).limits).toEqual({ cpus: Infinity, mem: 512 });
    const cpuOnly = resourceSet("server-rs", { limits: { cpus: 2 } });
    expect(build(podSpec([taskSpec("server")], {}, [cpuOnly])).limits).toEqual({ cpus: 2 });
  });

  describe("discovery", () => {
    const ports = resourceSet("server-rs", {
      ports: [
        { name: "http", port: 0, envKey: "PORT_HTTP", advertise: true },
        { name: "admin", port: 0, envKey: "PORT_ADMIN" },
        { name: "db", port: 0, envKey: "DB_PORT", vip: { prefix: "database", port: 5432, protocol: "tcp" } },
        { name: "stats", port: 0, envKey: "PORT_STATS", advertise: true, vip: { prefix: "stats", port: 80, protocol: "udp" } },
      ],
    });

    it("lists advertised (EXTERNAL) and VIP ports with their assigned numbers under the task's name when the spec has no discovery", () => {
      const info = build(podSpec([taskSpec("server")], {}, [ports]), undefined, [31000, 31001, 31002, 31003]);
      expect(info.discovery).toEqual({
        visibility: "CLUSTER",
        name: "pod-2-server",
        ports: [
          { number: 31000, name: "http", protocol: "tcp", visibility: "EXTERNAL" },
          { number: 31002, name: "db", protocol: "tcp", visibility: "CLUSTER", labels: { VIP_db: "database:5432" } },
          { number: 31003, name: "stats", protocol: "udp", visibility: "EXTERNAL", labels: { VIP_stats: "stats:80" } },
        ],
      });
      expect(info.command.environment).toMatchObject({ PORT_HTTP: "31000", PORT_ADMIN: "31001", DB_PORT: "31002", PORT_STATS: "31003" });
    });

    it("names it <prefix>-<index> with the spec's visibility", () => {
      const task = taskSpec("server", { discovery: { prefix: "hello", visibility: "FRAMEWORK" } });
      expect(build(podSpec([task])).discovery).toEqual({ visibility: "FRAMEWORK", name: "hello-2" });
      const noPrefix = taskSpec("server", { discovery: { visibility: "EXTERNAL" } });
      expect(build(podSpec([noPrefix]), undefined, []).discovery).toEqual({ visibility: "EXTERNAL", name: "pod-2-server" });
    });

    it("has none for ports neither advertised nor on a VIP", () => {
      const plain = resourceSet("server-rs", { ports: [{ name: "admin", port: 0, envKey: "PORT_ADMIN" }] });
      expect(build(podSpec([taskSpec("server")], {}, [plain]), undefined, [31000]).discovery).toBeUndefined();
    });
  });
});
