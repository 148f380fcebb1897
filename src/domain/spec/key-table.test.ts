import { describe, expect, it } from "vitest";
import { driverNotes } from "./driver-notes.js";
import type { ClusterCapabilities } from "./driver-notes.js";
import { KEY_TABLE } from "./key-table.js";
import type { KeyRow } from "./key-table.js";
import { SCHEDULER_KEYS, TOP_KEYS, parseServiceSpec } from "./parse.js";
import { PHASE_KEYS, PLAN_KEYS } from "./parse-plan.js";
import { POD_KEYS, RESOURCE_SET_KEYS } from "./parse-pod.js";
import { PORT_KEYS, VOLUME_KEYS } from "./parse-resources.js";
import { TASK_KEYS } from "./parse-task.js";
import type { ParsedSpec } from "./types.js";

/** Parts of the test spec; each is a flow mapping of key → YAML text. */
type Section = "top" | "scheduler" | "plan" | "phase" | "pod" | "set" | "setPort" | "setVolume" | "task" | "other" | "port" | "volume";
type Entries = Record<string, string | undefined>;
type Variant = Partial<Record<Section, Entries>>;

const DEFAULTS: Record<Section, Entries> = {
  top: { name: "svc" },
  scheduler: {},
  plan: {},
  phase: { pod: "hello" },
  pod: { count: "1" },
  set: { cpus: "1", memory: "64" },
  setPort: { port: "0" },
  setVolume: { path: "sdata", type: "MOUNT", size: "10" },
  task: { goal: "RUNNING", cmd: "run", cpus: "1", memory: "64" },
  other: { cmd: "run", "resource-set": "rs" },
  port: { port: "0" },
  volume: { path: "data", type: "MOUNT", size: "10" },
};

function flow(entries: Entries): string {
  const parts = Object.entries(entries).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}: ${v}`);
  return `{${parts.join(", ")}}`;
}

/** The whole spec with `variant`'s entries over the defaults (undefined deletes a key). */
function specText(variant: Variant): string {
  const part = (s: Section, nested: Entries = {}): Entries => ({ ...DEFAULTS[s], ...nested, ...variant[s] });
  const set = part("set", { ports: `{q: ${flow(part("setPort"))}}`, volume: flow(part("setVolume")) });
  const task = part("task", { ports: `{p: ${flow(part("port"))}}`, volume: flow(part("volume")) });
  const pod = part("pod", {
    "resource-sets": `{rs: ${flow(set)}}`,
    tasks: `{server: ${flow(task)}, other: ${flow(part("other"))}}`,
  });
  const plan = part("plan", { phases: `{p: ${flow(part("phase"))}}` });
  const scheduler = part("scheduler");
  const top = part("top", {
    ...(Object.keys(scheduler).length > 0 ? { scheduler: flow(scheduler) } : {}),
    pods: `{hello: ${flow(pod)}}`,
    plans: `{deploy: ${flow(plan)}}`,
  });
  return Object.entries(top).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}: ${v}`).join("\n");
}

/** Two variants: `a` writes the key; `b` differs in it (absent, or another value). No `b`: nothing to compare. */
interface Sample {
  readonly a: Entries;
  readonly b?: Entries;
}

const RESOURCES: Record<string, Sample> = {
  cpus: { a: { cpus: "2" }, b: {} },
  gpus: { a: { gpus: "1" }, b: {} },
  memory: { a: { memory: "128" }, b: {} },
  ports: { a: {}, b: { ports: undefined } },
  volume: { a: {}, b: { volume: undefined } },
  volumes: { a: { volume: undefined, volumes: "{a: {path: x, type: ROOT, size: 1}}" }, b: {} },
  "resource-limits": { a: { "resource-limits": "{cpus: unlimited, memory: 128}" }, b: {} },
};
const PORT: Record<string, Sample> = {
  port: { a: { port: "9999" }, b: {} },
  "env-key": { a: { "env-key": "MY_PORT" }, b: {} },
  advertise: { a: { advertise: "yes" }, b: {} },
  vip: { a: { vip: "{port: 80, prefix: web}" }, b: {} },
  ranges: { a: { ranges: "[{begin: 1024, end: 2048}]" }, b: {} },
};
const VOLUME: Record<string, Sample> = {
  path: { a: { path: "other" }, b: {} },
  type: { a: { type: "ROOT" }, b: {} },
  size: { a: { size: "20" }, b: {} },
  profiles: { a: { profiles: "[fast]" } },
};
const LINUX: Record<string, Sample> = {
  "ipc-mode": { a: { "ipc-mode": "PRIVATE" }, b: {} },
  "shm-size": { a: { "shm-size": "64" }, b: {} },
  "shared-memory": { a: { "shared-memory": "PRIVATE" } },
  "shared-memory-size": { a: { "shared-memory-size": "64" } },
};
const SAMPLES: Partial<Record<Section, Record<string, Sample>>> = {
  top: {
    name: { a: { name: "svc2" }, b: {} },
    "web-url": { a: { "web-url": "http://x" } },
    "replacement-failure-policy": { a: { "replacement-failure-policy": "{permanent-failure-timeout-secs: 600}" } },
    scheduler: { a: { scheduler: "{user: nobody}" }, b: {} },
    user: { a: { user: "nobody" } },
    pods: { a: {}, b: { pods: "{hello: {count: 1, tasks: {server: {cmd: run, cpus: 1, memory: 64}}}}" } },
    plans: { a: {}, b: { plans: undefined } },
  },
  scheduler: {
    user: { a: { user: "nobody" }, b: {} },
    principal: { a: { principal: "p" } },
    zookeeper: { a: { zookeeper: "zk" } },
  },
  plan: {
    strategy: { a: { strategy: "parallel" }, b: {} },
    phases: { a: {}, b: { phases: "{q: {pod: hello}}" } },
  },
  phase: {
    pod: { a: {} },
    strategy: { a: { strategy: "parallel" }, b: {} },
    steps: { a: { steps: "[{default: [[server], [other]]}]" }, b: {} },
  },
  pod: {
    count: { a: { count: "2" }, b: {} },
    "allow-decommission": { a: { "allow-decommission": "on" }, b: {} },
    user: { a: { user: "nobody" }, b: {} },
    placement: { a: { placement: `'[["hostname","UNIQUE"]]'` }, b: {} },
    "resource-sets": { a: {}, b: { "resource-sets": "{rs: {cpus: 2, memory: 64}}" } },
    tasks: { a: {}, b: { tasks: "{server: {cmd: run, cpus: 1, memory: 64}, other: {cmd: run, resource-set: rs}}" } },
    volume: { a: { volume: "{path: shared, type: ROOT, size: 5}" }, b: {} },
    volumes: { a: { volumes: "{s: {path: shared, type: ROOT, size: 5}}" }, b: {} },
    uris: { a: { uris: "[https://example.com/a.tgz, /opt/b.sh]" }, b: {} },
    image: { a: { image: `"ubuntu:18.04"` }, b: {} },
    networks: { a: { networks: `{dcos: {host-ports: [80], container-ports: [8080], labels: "k:v"}}` }, b: {} },
    rlimits: { a: { rlimits: "{RLIMIT_NOFILE: {soft: 1024, hard: 2048}}" }, b: {} },
    secrets: { a: { secrets: "{s1: {secret: app/s1, env-key: S1}}" }, b: {} },
    "host-volumes": { a: { "host-volumes": "{etc: {host-path: /etc, container-path: etc}}" }, b: {} },
    "external-volumes": { a: { "external-volumes": "{v: {type: DOCKER}}" } },
    "pre-reserved-role": { a: { "pre-reserved-role": "slave_public" }, b: {} },
    "share-pid-namespace": { a: { "share-pid-namespace": "true" }, b: {} },
    "seccomp-unconfined": { a: { "seccomp-unconfined": "true" }, b: {} },
    "seccomp-profile-name": { a: { "seccomp-profile-name": "default.json" }, b: {} },
    container: { a: { container: `{image-name: "ubuntu:14.04"}` } },
    capabilities: { a: { capabilities: "[NET_ADMIN]" } },
    "isolate-tmp": { a: { "isolate-tmp": "true" } },
    ...LINUX,
  },
  set: RESOURCES,
  setPort: PORT,
  setVolume: VOLUME,
  task: {
    goal: { a: { goal: "FINISH" }, b: {} },
    cmd: { a: { cmd: "other" }, b: {} },
    env: { a: { env: "{A: b}" }, b: {} },
    essential: { a: { essential: "no" }, b: {} },
    "kill-grace-period": { a: { "kill-grace-period": "5" }, b: {} },
    "health-check": { a: { "health-check": "{cmd: check}" }, b: {} },
    "readiness-check": { a: { "readiness-check": "{cmd: check}" }, b: {} },
    labels: { a: { labels: `"app:web,tier:front"` }, b: {} },
    discovery: { a: { discovery: "{prefix: web}" }, b: {} },
    "transport-encryption": { a: { "transport-encryption": "[{name: tls, type: TLS}]" } },
    configs: { a: { configs: "{c: {template: t.mustache, dest: conf/app.conf}}" } },
    ...LINUX,
    ...RESOURCES,
  },
  other: { "resource-set": { a: {}, b: { "resource-set": undefined, cpus: "1", memory: "64" } } },
  port: PORT,
  volume: VOLUME,
};

/** The section a row's key lives in, the key, and the field path the parser reports. */
function locate(path: string): { section: Section; key: string; field: string } {
  const rules: [RegExp, Section, string][] = [
    [/^pods\.\*\.resource-sets\.\*\.ports\.\*\.(.+)$/, "setPort", "pods.hello.resource-sets.rs.ports.q"],
    [/^pods\.\*\.resource-sets\.\*\.volume\.(.+)$/, "setVolume", "pods.hello.resource-sets.rs.volume"],
    [/^pods\.\*\.resource-sets\.\*\.(.+)$/, "set", "pods.hello.resource-sets.rs"],
    [/^pods\.\*\.tasks\.\*\.ports\.\*\.(.+)$/, "port", "pods.hello.tasks.server.ports.p"],
    [/^pods\.\*\.tasks\.\*\.volume\.(.+)$/, "volume", "pods.hello.tasks.server.volume"],
    [/^pods\.\*\.tasks\.\*\.(resource-set)$/, "other", "pods.hello.tasks.other"],
    [/^pods\.\*\.tasks\.\*\.(.+)$/, "task", "pods.hello.tasks.server"],
    [/^pods\.\*\.(.+)$/, "pod", "pods.hello"],
    [/^plans\.\*\.phases\.\*\.(.+)$/, "phase", "plans.deploy.phases.p"],
    [/^plans\.\*\.(.+)$/, "plan", "plans.deploy"],
    [/^scheduler\.(.+)$/, "scheduler", "scheduler"],
  ];
  for (const [re, section, at] of rules) {
    const key = re.exec(path)?.[1];
    if (key !== undefined) return { section, key, field: `spec.${at}.${key}` };
  }
  return { section: "top", key: path, field: `spec.${path}` };
}

const LOCAL: ClusterCapabilities = { kind: "local", cgroups: true };
const MESOS: ClusterCapabilities = { kind: "mesos", cgroups: false };

function warningsOn(parsed: ParsedSpec, caps: ClusterCapabilities): string[] {
  return [...parsed.warnings, ...driverNotes(parsed.spec, caps)].map((w) => w.field);
}

const names = (field: string) => (f: string) => f === field || f.startsWith(`${field}.`) || f.startsWith(`${field}[`);

describe("KEY_TABLE: every §4.2 key is acted on or warned about", () => {
  it.each(KEY_TABLE.map((r) => [r.path, r] as [string, KeyRow]))("%s", (_path, row) => {
    const { section, key, field } = locate(row.path);
    const sample = SAMPLES[section]?.[key];
    expect(sample, `no sample for ${row.path}`).toBeDefined();
    const a = parseServiceSpec(specText({ [section]: sample!.a }));
    for (const [caps, handling] of [[LOCAL, row.local], [MESOS, row.mesos]] as const) {
      const fields = warningsOn(a, caps);
      if (handling === "warned") {
        expect(fields.filter(names(field)), `${caps.kind} warns at ${field}`).toHaveLength(1);
      } else {
        expect(fields.filter((f) => f === field), `${caps.kind} acts on ${field} silently`).toEqual([]);
      }
    }
    if (row.local === "acted" || row.mesos === "acted") {
      if (sample!.b === undefined) return;
      const b = parseServiceSpec(specText({ [section]: sample!.b }));
      expect(JSON.stringify(a.spec), `${row.path} changes the parsed spec`).not.toEqual(JSON.stringify(b.spec));
    }
  });

  it("resource-limits are warned about on a local agent without cgroups, once per key", () => {
    const text = specText({ task: { "resource-limits": "{cpus: 2}" }, set: { "resource-limits": "{memory: unlimited}" } });
    const parsed = parseServiceSpec(text);
    expect(driverNotes(parsed.spec, { kind: "local", cgroups: false }).map((w) => w.field)).toEqual([
      "spec.pods.hello.resource-sets.rs.resource-limits",
      "spec.pods.hello.tasks.server.resource-limits",
    ]);
    expect(driverNotes(parsed.spec, LOCAL)).toEqual([]);
  });

  it("words every row and warning plainly, citing no internal document", () => {
    const texts = KEY_TABLE.flatMap((row) => {
      const { section, key } = locate(row.path);
      const a = parseServiceSpec(specText({ [section]: SAMPLES[section]?.[key]?.a ?? {} }));
      const notes = [LOCAL, MESOS].flatMap((caps) => driverNotes(a.spec, caps));
      return [row.how, ...[...a.warnings, ...notes].map((w) => w.message)];
    });
    expect(texts.filter((t) => t.includes("§"))).toEqual([]);
  });

  it("has a row for every key the parser knows", () => {
    const paths = new Set(KEY_TABLE.map((r) => r.path));
    const expected = [
      ...TOP_KEYS,
      ...SCHEDULER_KEYS.map((k) => `scheduler.${k}`),
      ...PLAN_KEYS.map((k) => `plans.*.${k}`),
      ...PHASE_KEYS.map((k) => `plans.*.phases.*.${k}`),
      ...POD_KEYS.map((k) => `pods.*.${k}`),
      ...RESOURCE_SET_KEYS.map((k) => `pods.*.resource-sets.*.${k}`),
      ...TASK_KEYS.map((k) => `pods.*.tasks.*.${k}`),
      ...["resource-sets.*", "tasks.*"].flatMap((at) => [
        ...PORT_KEYS.map((k) => `pods.*.${at}.ports.*.${k}`),
        ...VOLUME_KEYS.map((k) => `pods.*.${at}.volume.${k}`),
      ]),
    ];
    expect(expected.filter((p) => !paths.has(p))).toEqual([]);
    expect([...paths].filter((p) => !expected.includes(p))).toEqual([]);
  });
});
