import { describe, expect, it } from "vitest";
import { TASK, specText as spec } from "../../../test/fixtures/spec-text.js";
import { LOCAL_NOTES, driverNotes } from "./driver-notes.js";
import { parseServiceSpec } from "./parse.js";

const P = "spec.pods.hello";
const POD = "image: ubuntu:18.04\nnetworks: {dcos: }\nseccomp-unconfined: true\nshare-pid-namespace: true\nipc-mode: PRIVATE\nshm-size: 64";
const parsed = parseServiceSpec(spec({ pod: POD, task: `${TASK}\nipc-mode: SHARE_PARENT\nresource-limits: {memory: unlimited}` }));

describe("driverNotes", () => {
  it("explains each container key on the local agent, once, at the parser's field path", () => {
    expect(driverNotes(parsed.spec, { kind: "local", cgroups: false })).toEqual([
      { field: `${P}.image`, message: "the local agent runs tasks as host processes; on Mesos it is the container image" },
      { field: `${P}.networks`, message: LOCAL_NOTES.networks },
      { field: `${P}.seccomp-unconfined`, message: LOCAL_NOTES.seccomp },
      { field: `${P}.share-pid-namespace`, message: LOCAL_NOTES.sharePidNamespace },
      { field: `${P}.ipc-mode`, message: LOCAL_NOTES.ipcMode },
      { field: `${P}.shm-size`, message: LOCAL_NOTES.shmSize },
      { field: `${P}.tasks.server.ipc-mode`, message: LOCAL_NOTES.ipcMode },
      { field: `${P}.tasks.server.resource-limits`, message: "not enforced: needs root and a cgroup hierarchy; on Mesos it is TaskInfo.limits" },
    ]);
  });

  it("treats the simulated cluster as the local agent it stands in for", () => {
    expect(driverNotes(parsed.spec, { kind: "sim", cgroups: false })).toEqual(driverNotes(parsed.spec, { kind: "local", cgroups: false }));
  });

  it("does not warn about resource-limits where cgroups can enforce them", () => {
    expect(driverNotes(parsed.spec, { kind: "local", cgroups: true }).map((w) => w.field)).not.toContain(`${P}.tasks.server.resource-limits`);
  });

  it("has nothing to say on Mesos, which acts on every one of these keys", () => {
    expect(driverNotes(parsed.spec, { kind: "mesos", cgroups: false })).toEqual([]);
  });

  it("names seccomp-profile-name when that is the key written", () => {
    const spec2 = parseServiceSpec(spec({ pod: "seccomp-profile-name: p.json" })).spec;
    expect(driverNotes(spec2, { kind: "local", cgroups: true }).map((w) => w.field)).toEqual([`${P}.seccomp-profile-name`]);
  });

  it("says nothing about a spec without container keys", () => {
    expect(driverNotes(parseServiceSpec(spec()).spec, { kind: "local", cgroups: false })).toEqual([]);
  });
});

describe("driverNotes: what the cluster cannot offer", () => {
  const LOCAL = { kind: "local", cgroups: true } as const;
  const MESOS = { kind: "mesos", cgroups: true } as const;
  const notesOf = (text: string, caps: Parameters<typeof driverNotes>[1]) => driverNotes(parseServiceSpec(text).spec, caps);
  const preReserved = spec({ pod: "count: 2\npre-reserved-role: slave_public\nvolume: {path: shared, type: ROOT, size: 100}", task: `${TASK}\nvolume: {path: d, type: ROOT, size: 50}` });

  it("names the missing pool of a pre-reserved role with the flag that makes it, on the local agent", () => {
    // Two instances of: the task's 0.1 cpus, 32 MB, 50 MB disk, the pod volume's 100 MB, the executor's 0.01 cpus, 32 MB, 8 MB.
    expect(notesOf(preReserved, { ...LOCAL, preReservedRoles: [] })).toEqual([
      {
        field: `${P}.pre-reserved-role`,
        message: "no pool is reserved for role slave_public: the pod will not be placed until the scheduler runs with --agent-pre-reserved slave_public:cpus=0.22,mem=128,disk=316",
      },
    ]);
  });

  it("names --pre-reserved-role on Mesos", () => {
    expect(notesOf(preReserved, { ...MESOS, preReservedRoles: ["other"] })).toEqual([
      { field: `${P}.pre-reserved-role`, message: "no pool is reserved for role slave_public: the pod will not be placed until the scheduler runs with --pre-reserved-role slave_public" },
    ]);
  });

  it("says nothing when the role is subscribed, or the roles are unknown", () => {
    expect(notesOf(preReserved, { ...LOCAL, preReservedRoles: ["slave_public"] })).toEqual([]);
    expect(notesOf(preReserved, { ...MESOS, preReservedRoles: ["slave_public"] })).toEqual([]);
    expect(notesOf(preReserved, LOCAL)).toEqual([]);
  });

  const gpu = spec({ task: `${TASK}\ngpus: 1`, pod: "resource-sets: {rs: {cpus: 1, gpus: 2}}" });
  const gpuBoth = spec({ pod: "resource-sets: {rs: {gpus: 2}}", tasks: `server:\n  ${TASK.replace(/\n/g, "\n  ")}\n  gpus: 1\nother:\n  cmd: run\n  resource-set: rs` });

  it("says a GPU task will not be placed where no GPUs are offered, at the key that asked", () => {
    expect(notesOf(gpuBoth, { ...LOCAL, gpus: false })).toEqual([
      { field: `${P}.resource-sets.rs.gpus`, message: "the local agent offers no GPUs: the task will not be placed" },
      { field: `${P}.tasks.server.gpus`, message: "the local agent offers no GPUs: the task will not be placed" },
    ]);
    expect(notesOf(gpuBoth, { ...MESOS, gpus: false }).map((n) => n.message)).toEqual([
      "the cluster's agents offer no GPUs: the task will not be placed",
      "the cluster's agents offer no GPUs: the task will not be placed",
    ]);
    expect(notesOf(gpuBoth, { ...LOCAL, gpus: true })).toEqual([]);
    expect(notesOf(gpuBoth, LOCAL)).toEqual([]);
    expect(notesOf(gpu, { ...LOCAL, gpus: false })).toEqual([{ field: `${P}.tasks.server.gpus`, message: "the local agent offers no GPUs: the task will not be placed" }]);
  });

  const ports = spec({ task: `${TASK}\nports: {https: {port: 443}, web: {port: 8080}, any: {port: 0}}` });

  it("says a fixed port outside the offered ranges will not be placed", () => {
    expect(notesOf(ports, { ...LOCAL, ports: [{ begin: 1024, end: 65535 }] })).toEqual([
      {
        field: `${P}.tasks.server.ports.https.port`,
        message: "port 443 is outside the ports the local agent offers (1024-65535; --agent-ports): the task will not be placed",
      },
    ]);
    expect(notesOf(ports, { ...MESOS, ports: [{ begin: 31000, end: 32000 }, { begin: 443, end: 443 }] })).toEqual([
      {
        field: `${P}.tasks.server.ports.web.port`,
        message: "port 8080 is outside the ports the cluster's agents offer (31000-32000,443; the agents' --resources): the task will not be placed",
      },
    ]);
    expect(notesOf(ports, LOCAL)).toEqual([]);
  });
});
