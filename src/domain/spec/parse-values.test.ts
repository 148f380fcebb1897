import { describe, expect, it } from "vitest";
import { TASK, expectViolation, specText as spec } from "../../../test/fixtures/spec-text.js";
import { VALUE_LIMITS } from "./limits.js";
import { parseServiceSpec } from "./parse.js";

const P = "spec.pods.hello";
const T = `${P}.tasks.server`;
/** Task `server` with `cpus` and `memory` as given and `extra` keys. */
const res = (cpus: string, memory: string, extra = ""): string =>
  spec({ task: `cmd: run\ncpus: ${cpus}\nmemory: ${memory}\n${extra}` });
const task = (extra: string): string => spec({ task: `${TASK}\n${extra}` });
const count = (value: string): string => spec().replace("count: 1", `count: ${value}`);
const check = (kind: string, body: string): string => task(`${kind}: {cmd: x, ${body}}`);

describe("parseServiceSpec refuses values no cluster can honour", () => {
  it.each([
    { name: "cpus 1e308", text: res("1e308", "32"), field: `${T}.cpus`, reason: /^must be at most 1000000 \(VALUE_LIMITS\.maxCpus\)$/ },
    { name: "cpus 2^64", text: res("18446744073709551616", "32"), field: `${T}.cpus`, reason: /VALUE_LIMITS\.maxCpus/ },
    { name: "cpus 5e-324", text: res("5e-324", "32"), field: `${T}.cpus`, reason: /^must be greater than 0 at Mesos' precision of 0\.001$/ },
    { name: "cpus rounding to 0", text: res("0.0004", "32"), field: `${T}.cpus`, reason: /greater than 0 at Mesos' precision/ },
    { name: "cpus 1e400", text: res("1e400", "32"), field: `${T}.cpus`, reason: /^must be a finite number, got '1e400'$/ },
    { name: "cpus .inf", text: res(".inf", "32"), field: `${T}.cpus`, reason: /must be a number, got '\.inf'/ },
    { name: "cpus .nan", text: res(".nan", "32"), field: `${T}.cpus`, reason: /must be a number, got '\.nan'/ },
    { name: "memory 2^64", text: res("0.1", "18446744073709551616"), field: `${T}.memory`, reason: /^must be at most 4294967296 \(VALUE_LIMITS\.maxMemoryMb\)$/ },
    { name: "memory 1e308", text: res("0.1", "1e308"), field: `${T}.memory`, reason: /^must be an integer written without an exponent, got '1e308'$/ },
    { name: "memory 5e-324", text: res("0.1", "5e-324"), field: `${T}.memory`, reason: /without an exponent/ },
    { name: "memory 0.0", text: res("0.1", "0.0"), field: `${T}.memory`, reason: /greater than 0/ },
    { name: "fractional gpus", text: task("gpus: 0.5"), field: `${T}.gpus`, reason: /^must be an integer, got '0\.5'$/ },
    { name: "gpus over ceiling", text: task(`gpus: ${VALUE_LIMITS.maxGpus + 1}`), field: `${T}.gpus`, reason: /VALUE_LIMITS\.maxGpus/ },
    { name: "gpus empty", text: task("gpus: ''"), field: `${T}.gpus`, reason: /^must be a number, got an empty value$/ },
    { name: "volume size 2^64", text: task("volume: {path: a, type: ROOT, size: 18446744073709551616}"), field: `${T}.volume.size`, reason: /VALUE_LIMITS\.maxVolumeMb/ },
    { name: "volume size 1.5", text: task("volume: {path: a, type: ROOT, size: 1.5}"), field: `${T}.volume.size`, reason: /must be an integer/ },
    { name: "count 1e2", text: count("1e2"), field: `${P}.count`, reason: /^must be an integer written without an exponent, got '1e2'$/ },
    { name: "count 1.0e2", text: count("1.0e2"), field: `${P}.count`, reason: /without an exponent/ },
    { name: "count 010", text: count("010"), field: `${P}.count`, reason: /^must be an integer without leading zeros \(YAML 1\.1 reads them as octal\), got '010'$/ },
    { name: "count 0x10", text: count("0x10"), field: `${P}.count`, reason: /must be an integer, got '0x10'/ },
    { name: "count 1_000", text: count("1_000"), field: `${P}.count`, reason: /must be an integer, got '1_000'/ },
    { name: "port 80.5", text: task("ports: {p: {port: 80.5}}"), field: `${T}.ports.p.port`, reason: /must be an integer/ },
    { name: "port null", text: task("ports: {p: {port: null}}"), field: `${T}.ports.p.port`, reason: /must be a number, got 'null'/ },
    { name: "health interval ''", text: check("health-check", "interval: ''"), field: `${T}.health-check.interval`, reason: /^must be a number, got an empty value$/ },
    { name: "health interval null", text: check("health-check", "interval: null"), field: `${T}.health-check.interval`, reason: /must be a number, got 'null'/ },
    { name: "health timeout empty", text: check("health-check", "timeout: "), field: `${T}.health-check.timeout`, reason: /must be a number, got an empty value/ },
    { name: "health grace-period ~", text: check("health-check", "grace-period: ~"), field: `${T}.health-check.grace-period`, reason: /must be a number, got '~'/ },
    { name: "health delay negative", text: check("health-check", "delay: -1"), field: `${T}.health-check.delay`, reason: /at least 0/ },
    { name: "health timeout huge", text: check("health-check", "timeout: 1000001"), field: `${T}.health-check.timeout`, reason: /^must be at most 1000000 \(VALUE_LIMITS\.maxDurationS\)$/ },
    { name: "health interval 1e308", text: check("health-check", "interval: 1e308"), field: `${T}.health-check.interval`, reason: /without an exponent/ },
    { name: "health failures null", text: check("health-check", "max-consecutive-failures: null"), field: `${T}.health-check.max-consecutive-failures`, reason: /got 'null'/ },
    { name: "readiness timeout null", text: check("readiness-check", "timeout: null"), field: `${T}.readiness-check.timeout`, reason: /got 'null'/ },
    { name: "readiness delay 1.5", text: check("readiness-check", "delay: 1.5"), field: `${T}.readiness-check.delay`, reason: /must be an integer/ },
    { name: "kill-grace-period ''", text: task("kill-grace-period: ''"), field: `${T}.kill-grace-period`, reason: /got an empty value/ },
    { name: "kill-grace-period huge", text: task("kill-grace-period: 99999999999"), field: `${T}.kill-grace-period`, reason: /VALUE_LIMITS\.maxDurationS/ },
  ])("$name", ({ text, field, reason }) => expectViolation(text, field, reason));
});

describe("parseServiceSpec refuses control characters", () => {
  it.each([
    { name: "ESC in cmd", text: spec({ task: 'cmd: "a\\x1bb"\ncpus: 1\nmemory: 1' }), field: `${T}.cmd`, reason: /^must not contain control character U\+001B \(tab and newline are allowed\)$/ },
    { name: "CR in cmd", text: spec({ task: 'cmd: "a\\rb"\ncpus: 1\nmemory: 1' }), field: `${T}.cmd`, reason: /U\+000D/ },
    { name: "DEL in cmd", text: spec({ task: 'cmd: "a\\x7f"\ncpus: 1\nmemory: 1' }), field: `${T}.cmd`, reason: /U\+007F/ },
    { name: "BEL in an env value", text: task('env: {A: "x\\ay"}'), field: `${T}.env.A`, reason: /U\+0007/ },
    { name: "C1 in an env value", text: task('env: {A: "x\\x85y"}'), field: `${T}.env.A`, reason: /U\+0085/ },
    { name: "ESC in a health check cmd", text: task('health-check: {cmd: "\\e", interval: 5}'), field: `${T}.health-check.cmd`, reason: /U\+001B/ },
    { name: "tab in scheduler.user", text: spec({ tail: 'scheduler: {user: "a\\tb"}' }), field: "spec.scheduler.user", reason: /^must not contain control character U\+0009$/ },
    { name: "newline in pod user", text: spec({ pod: 'user: "a\\nb"' }), field: `${P}.user`, reason: /U\+000A/ },
    { name: "control in a volume path", text: task('volume: {path: "a\\x01", type: ROOT, size: 1}'), field: `${T}.volume.path`, reason: /U\+0001/ },
    { name: "DEL and C1 in an enum value, quoted escaped", text: task('goal: "a\\x7f\\x85\\tb"'), field: `${T}.goal`, reason: /got "a\\u007f\\u0085\\tb"$/ },
    { name: "newline in a phase pod", text: spec({ tail: 'plans: {deploy: {phases: {p: {pod: "hel\\nlo"}}}}' }), field: "spec.plans.deploy.phases.p.pod", reason: /U\+000A/ },
  ])("$name", ({ text, field, reason }) => expectViolation(text, field, reason));

  it("quotes a long unknown value bounded", () => {
    expectViolation(task(`goal: ${"X".repeat(10_000)}`), `${T}.goal`, /got 'X{64}…\(10000 chars\)'$/);
  });
});

describe("parseServiceSpec accepts the reference's forms", () => {
  const pod = (text: string) => parseServiceSpec(text).spec.pods[0]!;
  const set = (text: string) => pod(text).resourceSets[0]!;
  it.each([
    { name: "count 1.0 (Jackson coerces integral floats)", get: () => pod(count("1.0")).count, want: 1 },
    { name: "count 0.0 (the reference allows count 0)", get: () => pod(count("0.0")).count, want: 0 },
    { name: "count 0", get: () => pod(count("0")).count, want: 0 },
    { name: "quoted count", get: () => pod(count('"2"')).count, want: 2 },
    { name: "quoted cpus", get: () => set(res('"0.5"', "32")).cpus, want: 0.5 },
    { name: "cpus rounded to 0.001", get: () => set(res("0.1234", "32")).cpus, want: 0.123 },
    { name: "cpus 0.0005 rounds up", get: () => set(res("0.0005", "32")).cpus, want: 0.001 },
    { name: "cpus at the ceiling", get: () => set(res("1000000", "32")).cpus, want: VALUE_LIMITS.maxCpus },
    { name: "cpus in exponent form", get: () => set(res("5e-1", "32")).cpus, want: 0.5 },
    { name: "memory 256.0", get: () => set(res("0.1", "256.0")).memoryMb, want: 256 },
    { name: "memory at the ceiling", get: () => set(res("0.1", "4294967296")).memoryMb, want: VALUE_LIMITS.maxMemoryMb },
    { name: "gpus -0", get: () => set(task("gpus: -0")).gpus, want: 0 },
    { name: "port 0 (any port)", get: () => set(task("ports: {p: {port: 0}}")).ports[0]?.port, want: 0 },
    { name: "port absent (any port)", get: () => set(task("ports: {p: {}}")).ports[0]?.port, want: 0 },
    { name: "interval absent (default)", get: () => pod(check("health-check", "timeout: 3")).tasks[0]?.healthCheck?.intervalS, want: 5 },
    {
      name: "tab and newline in cmd",
      get: () => pod(spec({ task: 'cmd: "a\\tb\\nc"\ncpus: 1\nmemory: 1' })).tasks[0]?.cmd,
      want: "a\tb\nc",
    },
    {
      name: "a PEM certificate in env",
      get: () => pod(task("env:\n  CERT: |\n    -----BEGIN CERTIFICATE-----\n    \tMIIB\n    -----END CERTIFICATE-----")).tasks[0]?.env.CERT,
      want: "-----BEGIN CERTIFICATE-----\n\tMIIB\n-----END CERTIFICATE-----\n",
    },
  ])("$name", ({ get, want }) => expect(get()).toEqual(want));
});
