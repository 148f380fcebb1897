import { describe, expect, it } from "vitest";
import { podChanges, podsEquivalent, validateConfigUpdate } from "./config-update.js";
import type { PodSpec, ResourceSetSpec, ServiceSpec, TaskSpec, VolumeSpec } from "./types.js";

const DATA: VolumeSpec = { path: "data", type: "ROOT", sizeMb: 500 };

function set(overrides: Partial<ResourceSetSpec> = {}): ResourceSetSpec {
  return {
    id: "server-resource-set",
    cpus: 0.5,
    memoryMb: 256,
    gpus: 0,
    ports: [],
    volumes: [DATA],
    ...overrides,
  };
}

function task(overrides: Partial<TaskSpec> = {}): TaskSpec {
  return {
    name: "server",
    goal: "RUNNING",
    cmd: "sleep 1000",
    env: {},
    resourceSetId: "server-resource-set",
    essential: true,
    killGracePeriodS: 0,
    ...overrides,
  };
}

function pod(type: string, overrides: Partial<PodSpec> = {}): PodSpec {
  return {
    type,
    count: 2,
    allowDecommission: false,
    resourceSets: [set()],
    tasks: [task()],
    ...overrides,
  };
}

function service(pods: readonly PodSpec[], overrides: Partial<ServiceSpec> = {}): ServiceSpec {
  return { name: "hello-world", pods, plans: [], ...overrides };
}

const CURRENT = service([pod("hello"), pod("world")]);
const done = { deployCompleted: true };

/** The current spec with pod `type` replaced. */
function withPod(type: string, overrides: Partial<PodSpec>): ServiceSpec {
  return service(CURRENT.pods.map((p) => (p.type === type ? { ...p, ...overrides } : p)));
}

describe("validateConfigUpdate accepts", () => {
  it.each([
    { name: "the same spec", next: CURRENT },
    { name: "a cpu change", next: withPod("hello", { resourceSets: [set({ cpus: 2 })] }) },
    { name: "an env change", next: withPod("world", { tasks: [task({ env: { A: "1" } })] }) },
    { name: "a count raise", next: withPod("hello", { count: 5 }) },
    { name: "a pod added", next: service([...CURRENT.pods, pod("extra", { user: "nobody" })]) },
    {
      name: "a count shrink when the new pod allows decommission",
      next: withPod("hello", { count: 1, allowDecommission: true }),
    },
    {
      name: "the same service user named again",
      current: service(CURRENT.pods, { user: "nobody" }),
      next: service(CURRENT.pods, { user: "nobody" }),
    },
    {
      name: "a pod user set to the service user it already ran as",
      current: service(CURRENT.pods, { user: "nobody" }),
      next: service(
        CURRENT.pods.map((p) => (p.type === "hello" ? { ...p, user: "nobody" } : p)),
        { user: "nobody" },
      ),
    },
    {
      name: "volumes listed in another order",
      next: withPod("hello", {
        resourceSets: [set({ volumes: [{ path: "logs", type: "MOUNT", sizeMb: 10 }, DATA] })],
      }),
      current: withPod("hello", {
        resourceSets: [set({ volumes: [DATA, { path: "logs", type: "MOUNT", sizeMb: 10 }] })],
      }),
    },
    {
      name: "a task added with volumes of its own",
      next: withPod("hello", {
        resourceSets: [set(), set({ id: "side-resource-set", volumes: [{ ...DATA, sizeMb: 1 }] })],
        tasks: [task(), task({ name: "side", resourceSetId: "side-resource-set" })],
      }),
    },
  ])("$name", ({ next, current }) => {
    expect(validateConfigUpdate(current ?? CURRENT, next, done)).toEqual([]);
    expect(validateConfigUpdate(current ?? CURRENT, next, { deployCompleted: false })).toEqual([]);
  });

  it("removing a pod whose running spec allowed decommission", () => {
    const current = withPod("world", { allowDecommission: true });
    expect(validateConfigUpdate(current, service([pod("hello")]), done)).toEqual([]);
  });
});

describe("validateConfigUpdate refuses", () => {
  it.each([
    {
      name: "a count shrink without allow-decommission",
      next: withPod("hello", { count: 1 }),
      field: "spec.pods.hello.count",
      reason:
        "count 1 is below the running 2; set allow-decommission: true on pod hello to remove instances",
    },
    {
      name: "a count shrink when only the running pod allowed decommission",
      current: withPod("hello", { allowDecommission: true }),
      next: withPod("hello", { count: 1 }),
      field: "spec.pods.hello.count",
      reason: /set allow-decommission: true on pod hello/,
    },
    {
      name: "a pod removed whose running spec did not allow decommission",
      next: service([pod("hello")]),
      field: "spec.pods.world",
      reason: /pod world \(count 2\) is missing; .*allow-decommission: true on pod world/,
    },
    {
      name: "a pod removed when only the new spec would have allowed it",
      next: service([pod("hello", { allowDecommission: true })]),
      field: "spec.pods.world",
      reason: /is missing/,
    },
    {
      name: "a changed service user",
      next: service(CURRENT.pods, { user: "nobody" }),
      field: "spec.scheduler.user",
      reason: /user 'nobody' differs from the running \(none: the framework's user\); the user cannot change/,
    },
    {
      name: "a service user unset where one ran",
      current: service(CURRENT.pods, { user: "nobody" }),
      next: CURRENT,
      field: "spec.scheduler.user",
      reason: /user \(none: the framework's user\) differs from the running 'nobody'/,
    },
    {
      name: "a changed pod user",
      next: withPod("world", { user: "nobody" }),
      field: "spec.pods.world.user",
      reason: /user 'nobody' differs from the running \(none: the framework's user\) of pod world/,
    },
    {
      name: "a volume grown",
      next: withPod("hello", { resourceSets: [set({ volumes: [{ ...DATA, sizeMb: 1000 }] })] }),
      field: "spec.pods.hello.tasks.server.volumes",
      reason:
        "volumes of task server cannot change while its pod runs (running: [data ROOT 500 MB]; " +
        "new: [data ROOT 1000 MB]); the volumes of a running pod keep their path, type and size",
    },
    {
      name: "a volume type changed",
      next: withPod("hello", { resourceSets: [set({ volumes: [{ ...DATA, type: "MOUNT" }] })] }),
      field: "spec.pods.hello.tasks.server.volumes",
      reason: /new: \[data MOUNT 500 MB\]/,
    },
    {
      name: "a volume moved",
      next: withPod("hello", { resourceSets: [set({ volumes: [{ ...DATA, path: "data2" }] })] }),
      field: "spec.pods.hello.tasks.server.volumes",
      reason: /running: \[data ROOT 500 MB\]; new: \[data2 ROOT 500 MB\]/,
    },
    {
      name: "a volume removed",
      next: withPod("hello", { resourceSets: [set({ volumes: [] })] }),
      field: "spec.pods.hello.tasks.server.volumes",
      reason: /new: none/,
    },
    {
      name: "a volume changed on a named resource set",
      current: withPod("hello", {
        resourceSets: [set({ id: "shared" })],
        tasks: [task({ resourceSetId: "shared" })],
      }),
      next: withPod("hello", {
        resourceSets: [set({ id: "shared", volumes: [] })],
        tasks: [task({ resourceSetId: "shared" })],
      }),
      field: "spec.pods.hello.resource-sets.shared.volumes",
      reason: /volumes of task server cannot change/,
    },
    {
      name: "a renamed service",
      next: service(CURRENT.pods, { name: "other" }),
      field: "spec.name",
      reason: "'other' differs from the running service's name 'hello-world'; a service cannot be renamed",
    },
  ])("$name", ({ current, next, field, reason }) => {
    const violations = validateConfigUpdate(current ?? CURRENT, next, done);
    const expected = typeof reason === "string" ? reason : expect.stringMatching(reason);
    expect(violations).toEqual([{ field, reason: expected }]);
  });

  it("a name with '__' (task IDs use it as a separator)", () => {
    const current = service(CURRENT.pods, { name: "a__b" });
    const next = service(CURRENT.pods, { name: "a__b" });
    expect(validateConfigUpdate(current, next, done)).toEqual([
      { field: "spec.name", reason: "must not contain '__'" },
    ]);
  });

  it("reports every violation, not the first", () => {
    const next = service(
      [
        pod("hello", {
          count: 1,
          user: "nobody",
          resourceSets: [set({ volumes: [] })],
        }),
      ],
      { user: "admin" },
    );
    const fields = validateConfigUpdate(CURRENT, next, done).map((v) => v.field);
    expect(fields).toEqual([
      "spec.scheduler.user",
      "spec.pods.hello.user",
      "spec.pods.hello.count",
      "spec.pods.world",
      "spec.pods.hello.tasks.server.volumes",
    ]);
  });

  it("one violation per resource set that several tasks share", () => {
    const shared = (volumes: VolumeSpec[]): Partial<PodSpec> => ({
      resourceSets: [set({ id: "shared", volumes })],
      tasks: [task({ resourceSetId: "shared" }), task({ name: "b", resourceSetId: "shared" })],
    });
    const violations = validateConfigUpdate(withPod("hello", shared([DATA])), withPod("hello", shared([])), done);
    expect(violations.map((v) => v.field)).toEqual(["spec.pods.hello.resource-sets.shared.volumes"]);
  });

  it("quotes a long user cut short", () => {
    const [violation] = validateConfigUpdate(CURRENT, service(CURRENT.pods, { user: "u".repeat(500) }), done);
    expect(violation?.reason.length).toBeLessThan(250);
    expect(violation?.reason).not.toContain("u".repeat(200));
  });
});

describe("validateConfigUpdate and the pod's own volumes and pre-reserved role", () => {
  const SHARED: VolumeSpec = { path: "shared", type: "ROOT", sizeMb: 100 };

  it("refuses a change of a pod's volumes, naming both", () => {
    const current = withPod("hello", { volumes: [SHARED] });
    const next = service(current.pods.map((p) => (p.type === "hello" ? { ...p, volumes: [{ ...SHARED, sizeMb: 200 }] } : p)));
    expect(validateConfigUpdate(current, next, done)).toEqual([
      {
        field: "spec.pods.hello.volumes",
        reason: "volumes of pod hello cannot change while it runs (running: [shared ROOT 100 MB]; new: [shared ROOT 200 MB]); the volumes of a running pod keep their path, type and size",
      },
    ]);
    expect(validateConfigUpdate(CURRENT, current, done).map((v) => v.field)).toEqual(["spec.pods.hello.volumes"]);
  });

  it("refuses a change of pre-reserved-role, also to and from none", () => {
    const reserved = withPod("hello", { preReservedRole: "slave_public" });
    const other = withPod("hello", { preReservedRole: "other" });
    for (const [from, to] of [[CURRENT, reserved], [reserved, CURRENT], [reserved, other]] as const) {
      const found = validateConfigUpdate(from, to, done);
      expect(found.map((v) => v.field)).toEqual(["spec.pods.hello.pre-reserved-role"]);
      expect(found[0]?.reason).toMatch(/cannot change, as the pod's reservations are in that role/);
    }
  });

  it("accepts the same volumes and role, and both on a new pod", () => {
    const current = withPod("hello", { volumes: [SHARED], preReservedRole: "r" });
    expect(validateConfigUpdate(current, withPod("hello", { volumes: [SHARED], preReservedRole: "r", count: 3 }), done)).toEqual([]);
    expect(validateConfigUpdate(CURRENT, service([...CURRENT.pods, pod("new", { volumes: [SHARED], preReservedRole: "r" })]), done)).toEqual([]);
  });
});

describe("podsEquivalent", () => {
  const base = pod("hello", {
    resourceSets: [set({ id: "a", ports: [{ name: "http", port: 0, envKey: "PORT_HTTP" }, { name: "admin", port: 8080, envKey: "PORT_ADMIN" }] }), set({ id: "b" })],
    tasks: [task({ resourceSetId: "a", env: { A: "1", B: "2" } }), task({ name: "side", resourceSetId: "b" })],
  });

  it.each([
    { name: "itself", other: base },
    { name: "a different count", other: { ...base, count: 7 } },
    { name: "allow-decommission set", other: { ...base, allowDecommission: true } },
    { name: "tasks in another order", other: { ...base, tasks: [...base.tasks].reverse() } },
    { name: "resource sets in another order", other: { ...base, resourceSets: [...base.resourceSets].reverse() } },
    {
      name: "ports in another order",
      other: {
        ...base,
        resourceSets: base.resourceSets.map((s) => ({ ...s, ports: [...s.ports].reverse() })),
      },
    },
    {
      name: "env keys in another order",
      other: { ...base, tasks: base.tasks.map((t) => ({ ...t, env: Object.fromEntries(Object.entries(t.env).reverse()) })) },
    },
  ])("is equivalent to $name", ({ other }) => {
    expect(podsEquivalent(base, other)).toBe(true);
    expect(podsEquivalent(other, base)).toBe(true);
  });

  it.each([
    { name: "a cpu change", other: { ...base, resourceSets: [set({ id: "a", cpus: 9 }), set({ id: "b" })] } },
    { name: "an env value", other: { ...base, tasks: [task({ resourceSetId: "a", env: { A: "1", B: "3" } }), base.tasks[1]!] } },
    { name: "a cmd", other: { ...base, tasks: [base.tasks[0]!, task({ name: "side", resourceSetId: "b", cmd: "x" })] } },
    { name: "a health check added", other: { ...base, tasks: [base.tasks[0]!, task({ name: "side", resourceSetId: "b", healthCheck: { cmd: "true", intervalS: 1, timeoutS: 1, delayS: 0, gracePeriodS: 0, maxConsecutiveFailures: 3 } })] } },
    { name: "a user", other: { ...base, user: "nobody" } },
    { name: "a task removed", other: { ...base, tasks: [base.tasks[0]!] } },
    { name: "another pod type", other: { ...base, type: "world" } },
    { name: "uris added", other: { ...base, uris: ["https://example.com/a.tgz"] } },
    { name: "an rlimit", other: { ...base, rlimits: [{ name: "RLIMIT_NOFILE" as const, soft: 1, hard: 2 }] } },
    { name: "a secret", other: { ...base, secrets: [{ key: "s", secret: "app/s", envKey: "S" }] } },
    { name: "an image", other: { ...base, image: "ubuntu:18.04" } },
    { name: "a host volume", other: { ...base, hostVolumes: [{ key: "etc", hostPath: "/etc", containerPath: "etc", mode: "RO" as const }] } },
    { name: "a network", other: { ...base, networks: [{ name: "dcos", hostPorts: [], containerPorts: [], labels: {} }] } },
    { name: "seccomp", other: { ...base, seccomp: { unconfined: true } } },
    { name: "a task label", other: { ...base, tasks: [task({ resourceSetId: "a", env: { A: "1", B: "2" }, labels: { k: "v" } }), base.tasks[1]!] } },
    { name: "a memory limit made unlimited", other: { ...base, resourceSets: [{ ...base.resourceSets[0]!, limits: { memoryMb: Infinity } }, base.resourceSets[1]!] } },
  ])("is not equivalent after $name", ({ other }) => {
    expect(podsEquivalent(base, other)).toBe(false);
    expect(podsEquivalent(other, base)).toBe(false);
  });
});

describe("podChanges", () => {
  it.each([
    { name: "the same spec", next: CURRENT, changes: { changed: [], relaunched: [], added: [], removed: [] } },
    {
      name: "a cpu change of one pod",
      next: withPod("world", { resourceSets: [set({ cpus: 3 })] }),
      changes: { changed: ["world"], relaunched: ["world-0", "world-1"], added: [], removed: [] },
    },
    {
      name: "a count raise",
      next: withPod("hello", { count: 4 }),
      changes: { changed: [], relaunched: [], added: ["hello-2", "hello-3"], removed: [] },
    },
    {
      name: "a count shrink",
      next: withPod("hello", { count: 1, allowDecommission: true }),
      changes: { changed: [], relaunched: [], added: [], removed: ["hello-1"] },
    },
    {
      name: "a shrink and an env change of the same pod",
      next: withPod("hello", { count: 1, allowDecommission: true, tasks: [task({ env: { X: "y" } })] }),
      changes: { changed: ["hello"], relaunched: ["hello-0"], added: [], removed: ["hello-1"] },
    },
    {
      name: "a raise and a cmd change of the same pod",
      next: withPod("hello", { count: 3, tasks: [task({ cmd: "new" })] }),
      changes: { changed: ["hello"], relaunched: ["hello-0", "hello-1"], added: ["hello-2"], removed: [] },
    },
    {
      name: "a pod removed and another added",
      next: service([pod("hello"), pod("extra", { count: 1 })]),
      changes: { changed: [], relaunched: [], added: ["extra-0"], removed: ["world-0", "world-1"] },
    },
  ])("$name", ({ next, changes }) => {
    expect(podChanges(CURRENT, next)).toEqual(changes);
  });
});
