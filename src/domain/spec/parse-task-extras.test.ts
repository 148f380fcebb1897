import { describe, expect, it } from "vitest";
import { TASK, expectViolation, specText as spec } from "../../../test/fixtures/spec-text.js";
import { parseServiceSpec } from "./parse.js";
import { reservedLabelKeys } from "./parse-task-extras.js";

const T = "spec.pods.hello.tasks.server";
const task = (extra: string) => parseServiceSpec(spec({ task: `${TASK}\n${extra}` }));
const taskSpec = (extra: string) => task(extra).spec.pods[0]!.tasks[0]!;
const set = (extra: string) => task(extra).spec.pods[0]!.resourceSets[0]!;

describe("task keys of §4.2: accepted values", () => {
  it("labels as the reference's k:v,k2:v2 string, or as a mapping", () => {
    expect(taskSpec("labels: 'app:web, tier:front'").labels).toEqual({ app: "web", tier: "front" });
    expect(taskSpec("labels: {app: web}").labels).toEqual({ app: "web" });
  });

  it("discovery, visibility CLUSTER by default", () => {
    expect(taskSpec("discovery: {prefix: web}").discovery).toEqual({ prefix: "web", visibility: "CLUSTER" });
    expect(taskSpec("discovery: {visibility: external}").discovery).toEqual({ visibility: "EXTERNAL" });
  });

  it("transport-encryption: parsed, with one warning for the key", () => {
    const parsed = task("transport-encryption:\n  - name: tls\n    type: TLS\n  - name: ks\n    type: KEYSTORE");
    expect(parsed.spec.pods[0]!.tasks[0]!.transportEncryption).toEqual([{ name: "tls", type: "TLS" }, { name: "ks", type: "KEYSTORE" }]);
    expect(parsed.warnings).toEqual([{ field: `${T}.transport-encryption`, message: expect.stringMatching(/TLS artifacts need the DC\/OS CA/) }]);
  });

  it("configs: parsed, warned about per config naming its dest", () => {
    const parsed = task("configs:\n  a: {template: a.mustache, dest: conf/a.yml}");
    expect(parsed.spec.pods[0]!.tasks[0]!.configs).toEqual([{ name: "a", template: "a.mustache", dest: "conf/a.yml" }]);
    expect(parsed.warnings).toEqual([
      { field: `${T}.configs.a`, message: "served by the reference's artifact endpoint; Corral does not render config templates yet — the task starts without conf/a.yml" },
    ]);
  });

  it("task ipc-mode and shm-size", () => {
    expect(taskSpec("ipc-mode: PRIVATE\nshm-size: 128")).toMatchObject({ ipcMode: "PRIVATE", shmSizeMb: 128 });
  });

  it("resource-limits: numbers, or unlimited as Infinity", () => {
    expect(set("resource-limits: {cpus: unlimited, memory: 64}").limits).toEqual({ cpus: Infinity, memoryMb: 64 });
    expect(set('resource-limits: {cpus: "0.5", memory: "UNLIMITED"}').limits).toEqual({ cpus: 0.5, memoryMb: Infinity });
  });

  it("port advertise, vip (tcp by default) and ranges", () => {
    const port = set("ports:\n  http:\n    port: 0\n    advertise: true\n    vip: {port: 80, prefix: web}\n    ranges: [{begin: 10000, end: 10100}]").ports[0];
    expect(port).toEqual({ name: "http", port: 0, envKey: "PORT_HTTP", advertise: true, vip: { prefix: "web", port: 80, protocol: "tcp" }, ranges: [{ begin: 10000, end: 10100 }] });
  });

  it("a fixed port inside its range", () => {
    expect(set("ports: {p: {port: 10050, ranges: [{begin: 10000, end: 10100}]}}").ports[0]?.port).toBe(10050);
  });

  it("volume profiles on a MOUNT volume, with one warning", () => {
    const parsed = task("volume: {path: d, type: MOUNT, size: 1, profiles: [fast, xfs.1]}");
    expect(parsed.spec.pods[0]!.resourceSets[0]!.volumes[0]!.profiles).toEqual(["fast", "xfs.1"]);
    expect(parsed.warnings.map((w) => w.field)).toEqual([`${T}.volume.profiles`]);
  });
});

describe("task keys of §4.2: violations name the field and the reason", () => {
  it.each([
    { name: "label without ':'", extra: "labels: 'a:b,c'", field: `${T}.labels`, reason: /^illegal label 'c': each entry is key:value \(for example k_0:v_0,k_1:v_1\)$/ },
    { name: "label with two ':'", extra: "labels: 'a:b:c'", field: `${T}.labels`, reason: /illegal label/ },
    { name: "empty label key", extra: "labels: ':v'", field: `${T}.labels`, reason: /must not be empty/ },
    { name: "label twice", extra: "labels: 'a:1,a:2'", field: `${T}.labels`, reason: /given twice/ },
    { name: "reserved label", extra: "labels: 'task_type:x'", field: `${T}.labels`, reason: /^label 'task_type' is reserved: Corral's own TaskInfo label/ },
    { name: "reserved label in a mapping", extra: "labels: {target_configuration: x}", field: `${T}.labels`, reason: /is reserved/ },
    { name: "labels as a list", extra: "labels: [a]", field: `${T}.labels`, reason: /k:v,k2:v2 string or a mapping/ },
    { name: "discovery prefix", extra: "discovery: {prefix: a_b}", field: `${T}.discovery.prefix`, reason: /DNS label/ },
    { name: "discovery visibility", extra: "discovery: {visibility: WORLD}", field: `${T}.discovery.visibility`, reason: /one of FRAMEWORK, CLUSTER, EXTERNAL/ },
    { name: "tls type", extra: "transport-encryption: [{name: a, type: PEM}]", field: `${T}.transport-encryption[0].type`, reason: /one of TLS, KEYSTORE, CUSTOM/ },
    { name: "tls name", extra: "transport-encryption: [{type: TLS}]", field: `${T}.transport-encryption[0].name`, reason: /is required/ },
    { name: "config dest escaping", extra: "configs: {a: {template: t, dest: ../x}}", field: `${T}.configs.a.dest`, reason: /relative to the task sandbox/ },
    { name: "config template missing", extra: "configs: {a: {dest: x}}", field: `${T}.configs.a.template`, reason: /is required/ },
    { name: "task ipc-mode", extra: "ipc-mode: NONE", field: `${T}.ipc-mode`, reason: /one of PRIVATE, SHARE_PARENT/ },
    { name: "cpu limit below request", extra: "resource-limits: {cpus: 0.05}", field: `${T}.resource-limits.cpus`, reason: /^must be at least the request \(0\.1\) or unlimited, as Mesos requires$/ },
    { name: "memory limit below request", extra: "resource-limits: {memory: 16}", field: `${T}.resource-limits.memory`, reason: /at least the request \(32\)/ },
    { name: "memory limit word", extra: "resource-limits: {memory: lots}", field: `${T}.resource-limits.memory`, reason: /must be an integer/ },
    { name: "vip without port", extra: "ports: {p: {vip: {prefix: web}}}", field: `${T}.ports.p.vip.port`, reason: /is required/ },
    { name: "vip without prefix", extra: "ports: {p: {vip: {port: 80}}}", field: `${T}.ports.p.vip.prefix`, reason: /is required/ },
    { name: "vip port 0", extra: "ports: {p: {vip: {port: 0, prefix: a}}}", field: `${T}.ports.p.vip.port`, reason: /at least 1/ },
    { name: "vip prefix", extra: "ports: {p: {vip: {port: 80, prefix: a.b}}}", field: `${T}.ports.p.vip.prefix`, reason: /DNS label/ },
    { name: "vip protocol", extra: "ports: {p: {vip: {port: 80, prefix: a, protocol: sctp}}}", field: `${T}.ports.p.vip.protocol`, reason: /one of tcp, udp/ },
    { name: "advertise", extra: "ports: {p: {advertise: sometimes}}", field: `${T}.ports.p.advertise`, reason: /true or false/ },
    { name: "range reversed", extra: "ports: {p: {ranges: [{begin: 20, end: 10}]}}", field: `${T}.ports.p.ranges[0]`, reason: /^begin 20 is after end 10$/ },
    { name: "range beyond 65535", extra: "ports: {p: {ranges: [{begin: 1, end: 70000}]}}", field: `${T}.ports.p.ranges[0].end`, reason: /at most 65535/ },
    { name: "range without begin", extra: "ports: {p: {ranges: [{end: 10}]}}", field: `${T}.ports.p.ranges[0].begin`, reason: /is required/ },
    { name: "fixed port outside ranges", extra: "ports: {p: {port: 9999, ranges: [{begin: 1024, end: 2048}]}}", field: `${T}.ports.p.port`, reason: /^port 9999 lies in none of its ranges \(1024-2048\)$/ },
    { name: "profiles on ROOT", extra: "volume: {path: d, type: ROOT, size: 1, profiles: [a]}", field: `${T}.volume.profiles`, reason: /only to volumes of type MOUNT/ },
    { name: "profile name", extra: "volume: {path: d, type: MOUNT, size: 1, profiles: ['a b']}", field: `${T}.volume.profiles[0]`, reason: /1–128 of/ },
    { name: "profile twice", extra: "volume: {path: d, type: MOUNT, size: 1, profiles: [a, a]}", field: `${T}.volume.profiles[1]`, reason: /listed twice/ },
  ])("$name", ({ extra, field, reason }) => {
    expectViolation(spec({ task: `${TASK}\n${extra}` }), field, reason);
  });

  it("reserves every label Corral's TaskInfo sets", () => {
    expect(reservedLabelKeys()).toEqual(expect.arrayContaining(["target_configuration", "task_type", "index", "resource_set", "goal", "offer_hostname", "offer_attributes", "offer_zone", "offer_region"]));
  });
});
