/**
 * What the fuzz sends. Cases are small symbolic descriptions (a 1 MiB name is `{k: "rep", unit,
 * n}`, a hostile spec is a base file plus a list of mutations), so fast-check shrinks the
 * description and a counterexample prints in a few lines; `materialize` turns one into the
 * request bytes at run time (it needs the names of the services that exist then).
 *
 * One generator per RPC of corral.v1.MultiServiceAdmin, keyed by the method's proto name:
 * `checkCoverage` fails when the service descriptor has a method without one, so an RPC added
 * to the proto must join the fuzz.
 */
import { readFileSync } from "node:fs";
import fc from "fast-check";
import type { DescMessage } from "@bufbuild/protobuf";
import { MultiServiceAdmin } from "../../gen/corral/v1/admin_pb.js";
import { WT, encodeRecords, lenRecord, tag, toRecords, varint } from "./wire.js";
import type { RequestValue, WireRecord } from "./wire.js";
import { REFERENCE_SVC_PARAMS } from "../fixtures/reference-params.js";

// ---------------------------------------------------------------------------------------------
// Symbolic values.

/** A string: literal, `unit` repeated to `n` characters, or the name of an existing service. */
export type Str =
  | { readonly k: "lit"; readonly v: string }
  | { readonly k: "rep"; readonly unit: string; readonly n: number }
  | { readonly k: "existing"; readonly i: number }
  | { readonly k: "fresh" };

export type SpecMutation =
  | { readonly m: "scalar"; readonly key: string; readonly occ: number; readonly val: string }
  | { readonly m: "string"; readonly key: string; readonly occ: number; readonly val: Str }
  | { readonly m: "inject"; readonly line: string }
  | { readonly m: "nest"; readonly style: "seq" | "map" | "block"; readonly depth: number }
  | { readonly m: "alias"; readonly style: "laughs" | "undefined" | "merge" | "many"; readonly n: number }
  | { readonly m: "directive"; readonly d: string }
  | { readonly m: "template"; readonly c: string; readonly where: "cmd" | "top" | "name" }
  | { readonly m: "sections"; readonly depth: number; readonly open: "#" | "^"; readonly text: boolean; readonly closed: boolean; readonly set: boolean }
  | { readonly m: "truncate"; readonly at: number }
  | { readonly m: "pad"; readonly size: number; readonly how: "comment" | "cmd" | "key" }
  | { readonly m: "char"; readonly ch: string; readonly at: number }
  | { readonly m: "dup"; readonly key: string }
  | { readonly m: "docs"; readonly n: number };

export interface SpecDesc {
  /** Index into SPEC_BASES, or -1 for `text`. */
  readonly base: number;
  readonly text?: string;
  readonly muts: readonly SpecMutation[];
}

export interface ParamsDesc {
  /** The base's own parameters (the reference fixtures need them). */
  readonly preset: boolean;
  readonly extra: readonly (readonly [Str, Str])[];
}

export interface NamesDesc {
  readonly n: number;
  readonly item: Str;
  /** same: n copies; indexed: item + "-" + i (n distinct names); existing: the existing names in turn. */
  readonly mix: "same" | "indexed" | "existing";
}

export type U64 = { readonly k: "edge"; readonly e: "0" | "1" | "last" | "last+1" | "2^63-1" | "2^63" | "2^64-1" } | { readonly k: "any"; readonly v: bigint };

export type FieldValue =
  | { readonly t: "str"; readonly s: Str }
  | { readonly t: "spec"; readonly spec: SpecDesc }
  | { readonly t: "params"; readonly p: ParamsDesc }
  | { readonly t: "names"; readonly names: NamesDesc }
  | { readonly t: "u64"; readonly u: U64 }
  /** A varint field given as is: an enum, a uint32 or a bool (values out of range included). */
  | { readonly t: "int"; readonly v: bigint };

/** How the canonical encoding is damaged before sending. */
export type RawMutation =
  | { readonly op: "wiretype"; readonly index: number; readonly wt: number }
  | { readonly op: "group"; readonly index: number; readonly close: boolean }
  | { readonly op: "flip"; readonly at: number; readonly xor: number }
  | { readonly op: "truncate"; readonly at: number }
  | { readonly op: "append"; readonly bytes: readonly number[] }
  | { readonly op: "unknown"; readonly no: number; readonly wt: number; readonly bytes: readonly number[] }
  | { readonly op: "duplicate"; readonly index: number }
  | { readonly op: "random"; readonly bytes: readonly number[] };

/** One fuzz case. */
export type FuzzCase =
  /** A call of `rpc` with fields generated for it; `raw` damages its encoding. */
  | { readonly kind: "call"; readonly rpc: string; readonly fields: Readonly<Record<string, FieldValue>>; readonly raw?: RawMutation }
  /** An unmodified example or fixture under a fresh name: must be CREATED (and, as a dry run, stored nowhere). */
  | { readonly kind: "valid-put"; readonly rpc: "PutService"; readonly base: number; readonly dryRun: boolean }
  /** Uninstall of an existing service. */
  | { readonly kind: "valid-uninstall"; readonly rpc: "UninstallService"; readonly i: number }
  /** Time passes on the fake clock (deploys progress, removals complete). */
  | { readonly kind: "advance"; readonly rpc: "-"; readonly ms: number }
  /** A valid spec with one value changed that issue 10 says must be refused (or kept accepted). */
  | { readonly kind: "strict"; readonly rpc: "PutService"; readonly rule: number };

// ---------------------------------------------------------------------------------------------
// Bases: the examples and the reference fixtures, with what they need to render.

const ROOT = new URL("../../", import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, ROOT), "utf8");


export interface SpecBase {
  readonly file: string;
  readonly text: string;
  readonly params: Readonly<Record<string, string>>;
}

export const SPEC_BASES: readonly SpecBase[] = [
  ...["simple.yml", "hello-world.yml", "finish-once.yml", "multistep.yml"].map((f) => ({ file: `examples/${f}`, text: read(`examples/${f}`), params: {} })),
  ...["reference-simple.yml", "reference-svc.yml"].map((f) => ({ file: `test/fixtures/${f}`, text: read(`test/fixtures/${f}`), params: REFERENCE_SVC_PARAMS })),
];

const HELLO_WORLD = SPEC_BASES.findIndex((b) => b.file === "examples/hello-world.yml");

// ---------------------------------------------------------------------------------------------
// Strict-value rules (issue 10, deliverable 3): one change to hello-world, and what must happen.

export interface StrictRule {
  readonly mutation: SpecMutation;
  readonly expect: "reject" | "accept";
  /** For a rejection: the field (or word) the message or a violation must name, when it must. */
  readonly names?: string;
}

const reject = (key: string, val: string): StrictRule => ({ mutation: { m: "scalar", key, occ: 0, val }, expect: "reject", names: key });
const accept = (mutation: SpecMutation): StrictRule => ({ mutation, expect: "accept" });

export const STRICT_RULES: readonly StrictRule[] = [
  ...["1e308", "18446744073709551616", "5e-324", ".nan", ".inf", "-1", "0"].map((v) => reject("cpus", v)),
  ...["1e308", "18446744073709551616", "5e-324", ".nan", ".inf", "-1", "1.5"].map((v) => reject("memory", v)),
  ...["1e308", "1.5", ".inf", "-1"].map((v) => reject("size", v)),
  ...["1.5", ".nan", ".inf", "-1", "1e308"].map((v) => reject("count", v)),
  ...["''", "null", ".nan", ".inf", "-1"].map((v) => reject("interval", v)),
  ...["''", "null", ".inf", "-1"].map((v) => reject("timeout", v)),
  // Refused anywhere in the spec; the message may locate them by line rather than by field.
  { mutation: { m: "string", key: "cmd", occ: 0, val: { k: "lit", v: "echo a\0b" } }, expect: "reject" },
  { mutation: { m: "inject", line: 'env: {NULVAR: "a\\0b"}' }, expect: "reject" },
  { mutation: { m: "string", key: "path", occ: 0, val: { k: "lit", v: "vol\x01path" } }, expect: "reject" },
  { mutation: { m: "directive", d: "%YAML 9.9" }, expect: "reject", names: "YAML" },
  // dcos-commons forms that stay accepted.
  accept({ m: "scalar", key: "cpus", occ: 0, val: "'0.1'" }),
  accept({ m: "scalar", key: "memory", occ: 0, val: '"252"' }),
  accept({ m: "scalar", key: "memory", occ: 0, val: "252.0" }),
  accept({ m: "scalar", key: "count", occ: 0, val: "1.0" }),
  accept({ m: "scalar", key: "count", occ: 0, val: "'1'" }),
  accept({ m: "inject", line: "ports: {http: {port: 0}}" }),
  accept({ m: "inject", line: 'env: {PEM: "-----BEGIN X-----\\n\\tAAAA\\n-----END X-----\\n"}' }),
  accept({ m: "string", key: "cmd", occ: 0, val: { k: "lit", v: "echo a\tb\necho c" } }),
];

export const STRICT_BASE = HELLO_WORLD;

// ---------------------------------------------------------------------------------------------
// Arbitraries.

const SIZES = [0, 1, 63, 64, 255, 1000, 4097, 8193, 65_536, 300_000, 1_048_000, 1_048_576 + 16] as const;
const size = fc.constantFrom(...SIZES);

const ODD_NAMES = [
  "", "a", "hello", "team/db", "a/b/c/d", "/a", "a/", "a//b", "__", "a__b", ".", "..", "a.b", "UPPER", "-a", "a-",
  "a\0b", "\0", "a\nb", "a\tb", "a b", "\x7f", "ünïcödé", "日本", "😀", "a\u202eb", "\ufeffa", "a".repeat(63), "a".repeat(64),
  `${"a".repeat(63)}/${"b".repeat(63)}`, "%00", "%", "a%2Fb", "a\\b", "{{SERVICE_NAME}}", "deploy", "*", "'", '"',
] as const;

const UNITS = ["a", "é", "😀", "%", "\0", "ab/", "a__", "x\n", "\u0085", "{{.}}"] as const;

const strArb = (literals: readonly string[]): fc.Arbitrary<Str> =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...literals).map((v): Str => ({ k: "lit", v })) },
    { weight: 2, arbitrary: fc.stringMatching(/^[a-z][a-z0-9-]{0,12}(\/[a-z][a-z0-9-]{0,8})?$/).map((v): Str => ({ k: "lit", v })) },
    { weight: 2, arbitrary: fc.record({ k: fc.constant("rep" as const), unit: fc.constantFrom(...UNITS), n: size }) },
    { weight: 2, arbitrary: fc.nat(1000).map((i): Str => ({ k: "existing", i })) },
    { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 40 }).map((v): Str => ({ k: "lit", v })) },
    { weight: 1, arbitrary: fc.constant<Str>({ k: "fresh" }) },
  );

const nameArb = strArb(ODD_NAMES);

const EXTREMES = [
  "1e308", "-1e308", "18446744073709551616", "9223372036854775808", "9007199254740993", "5e-324", "-0", "-0.0", ".nan", ".NaN", ".inf", "-.inf", ".Inf",
  "0", "0.0", "1e2", "1.5", "1.0", "0.0001", "-1", "0x10", "0o17", "1_000", "''", '""', "null", "~", "true", "yes",
  "!!float 1", "!!int 1", "!!binary aGVsbG8=", "!!str 1", "!!null", "!!timestamp 2001-12-14", "!!set {a}", "!!omap [a: 1]", "!foo 1",
  "[1, 2]", "{a: 1}", "|\n  1", "'1'", "1e999", "9".repeat(400), "0.1e-400",
] as const;

const SCALAR_KEYS = [
  "count", "cpus", "memory", "size", "interval", "timeout", "delay", "grace-period", "max-consecutive-failures",
  "kill-grace-period", "goal", "strategy", "type", "name", "allow-decommission", "pod", "user", "principal", "soft", "hard", "SLEEP_DURATION",
] as const;

const STRING_KEYS = ["cmd", "name", "goal", "path", "user", "SLEEP_DURATION", "pod", "strategy", "type"] as const;

const TEMPLATES = [
  "{{.}}", "{{>p}}", "{{> p}}", "{{=<% %>=}}", "{{=<% %>=}}<%SERVICE_NAME%>", "{{#A}}", "{{/A}}", "{{^A}}x{{/A}}", "{{{X}}}", "{{&X}}", "{{!c}}", "{{", "}}",
  "{{#.}}{{/.}}", "{{ SERVICE_NAME }}", "{{SERVICE_NAME.x}}", "{{#SERVICE_NAME}}{{.}}{{/SERVICE_NAME}}", "{{#A}}{{.}}{{/A}}", "{{{", "{{#A}}{{/B}}",
  "{{=| |=}}", "{{=a b c=}}", "{{X}}{{X}}{{X}}", "{{\0}}", "{{#A}}{{>A}}{{/A}}", "{{.A}}", "{{UNSET}}",
] as const;

const DIRECTIVES = ["%YAML 9.9", "%YAML 1.1", "%YAML 1.2", "%YAML 2.0", "%YAML 1.2\n%YAML 1.2", "%TAG ! tag:x,2000:", "%TAG !! tag:evil:", "%FOO bar"] as const;

const CHARS = ["\0", "\x01", "\x1b", "\x7f", "\t", "\r", "\ufeff", "\u0085", "\u2028", "\ud800", "\uffff", "\n\t"] as const;

const INJECTS = [
  "ports: {http: {port: 0}}", "ports: {http: {port: 70000}}", "ports: {http: {port: 1e308}}", "ports: {http: {port: -1}}", "ports: {'': {port: 1}}",
  'env: {A: "\\0"}', 'env: {"": x}', 'env: {"A=B": x}', 'env: {A: "\\x01\\x1b"}', "env: {A: [1]}", "env: {A: {b: c}}", "env: ~",
  "labels: {a: b}", 'labels: {"\\0": x}', "health-check: {cmd: x, interval: '', timeout: null}", "readiness-check: {cmd: '', interval: .inf}",
  "volume: {path: '../../etc', type: ROOT, size: 1}", 'volume: {path: "a\\0b", type: ROOT, size: 1}', "volume: {path: p, type: MOUNT, size: 1e308}",
  "essential: maybe", "kill-grace-period: .inf", "gpus: 5e-324", "resource-set: nope", "<<: {a: 1}",
] as const;

const mutationArb: fc.Arbitrary<SpecMutation> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ m: fc.constant("scalar" as const), key: fc.constantFrom(...SCALAR_KEYS), occ: fc.nat(5), val: fc.constantFrom(...EXTREMES) }) },
  { weight: 3, arbitrary: fc.record({ m: fc.constant("string" as const), key: fc.constantFrom(...STRING_KEYS), occ: fc.nat(5), val: strArb(["\0", "a\0b", "\x01", "\x1b[31m", "\r\n", "\u2028", "a\tb", "x\ny", "😀", ""]) }) },
  { weight: 2, arbitrary: fc.record({ m: fc.constant("inject" as const), line: fc.constantFrom(...INJECTS) }) },
  { weight: 1, arbitrary: fc.record({ m: fc.constant("nest" as const), style: fc.constantFrom("seq" as const, "map" as const, "block" as const), depth: fc.constantFrom(10, 100, 1000, 10_000, 50_000) }) },
  { weight: 1, arbitrary: fc.record({ m: fc.constant("alias" as const), style: fc.constantFrom("laughs" as const, "undefined" as const, "merge" as const, "many" as const), n: fc.constantFrom(2, 9, 200, 5000) }) },
  { weight: 1, arbitrary: fc.record({ m: fc.constant("directive" as const), d: fc.constantFrom(...DIRECTIVES) }) },
  { weight: 3, arbitrary: fc.record({ m: fc.constant("template" as const), c: fc.constantFrom(...TEMPLATES), where: fc.constantFrom("cmd" as const, "top" as const, "name" as const) }) },
  { weight: 2, arbitrary: fc.record({ m: fc.constant("sections" as const), depth: fc.constantFrom(2, 100, 1000, 3000, 5000, 20_000), open: fc.constantFrom("#" as const, "^" as const), text: fc.boolean(), closed: fc.boolean(), set: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ m: fc.constant("truncate" as const), at: fc.nat(4000) }) },
  { weight: 1, arbitrary: fc.record({ m: fc.constant("pad" as const), size: fc.constantFrom(1000, 100_000, 300_000, 1_040_000, 1_100_000), how: fc.constantFrom("comment" as const, "cmd" as const, "key" as const) }) },
  { weight: 1, arbitrary: fc.record({ m: fc.constant("char" as const), ch: fc.constantFrom(...CHARS), at: fc.nat(4000) }) },
  { weight: 1, arbitrary: fc.record({ m: fc.constant("dup" as const), key: fc.constantFrom("name", "pods", "count", "cmd", "hello") }) },
  { weight: 1, arbitrary: fc.record({ m: fc.constant("docs" as const), n: fc.constantFrom(2, 3, 1000) }) },
);

const specArb: fc.Arbitrary<SpecDesc> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ base: fc.nat(SPEC_BASES.length - 1), muts: fc.array(mutationArb, { minLength: 1, maxLength: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ base: fc.nat(SPEC_BASES.length - 1), muts: fc.constant([]) }) },
  { weight: 1, arbitrary: fc.record({ base: fc.constant(-1), text: fc.string({ unit: "binary", maxLength: 200 }), muts: fc.array(mutationArb, { maxLength: 2 }) }) },
);

const PARAM_KEYS = ["A", "B", "X", "p", "SERVICE_NAME", "FRAMEWORK_NAME", "HELLO_CPUS", "HELLO_COUNT", "", "a.b", "{{", "\0", "é", " "] as const;
const PARAM_VALUES = ["1", "", "true", "1e308", "\0", "a\0b", "x\npods: {}", "{{X}}", "{{.}}", "[", "&a", "*a", "'", '"', "\u2028", "5e-324", "NaN"] as const;

const paramsArb: fc.Arbitrary<ParamsDesc> = fc.record({
  preset: fc.boolean(),
  extra: fc.array(fc.tuple(strArb(PARAM_KEYS), strArb(PARAM_VALUES)), { maxLength: 4 }),
});

const namesArb: fc.Arbitrary<NamesDesc> = fc.record({
  n: fc.constantFrom(0, 1, 2, 5, 100, 1000, 50_000),
  item: nameArb,
  mix: fc.constantFrom("same" as const, "indexed" as const, "existing" as const),
});

const u64Arb: fc.Arbitrary<U64> = fc.oneof(
  fc.constantFrom("0", "1", "last", "last+1", "2^63-1", "2^63", "2^64-1").map((e) => ({ k: "edge" as const, e: e as "0" })),
  fc.bigInt(0n, (1n << 64n) - 1n).map((v) => ({ k: "any" as const, v })),
);

const PLAN_NAMES = ["", "deploy", "recovery", "uninstall", "DEPLOY", "nope", "deploy\0", "../deploy", "deploy ", "😀"] as const;

const PHASE_REFS = ["", "hello", "world", "hello-0:[server]", "nope", "hello\0", "00000000-0000-0000-0000-000000000000", "😀"] as const;
const STEP_REFS = ["", "hello-0:[server]", "world-1:[server]", "hello-0", "nope", "\0", "00000000-0000-0000-0000-000000000000"] as const;
const POD_REFS = ["hello-0", "world-0", "world-1", "hello-1", "", "hello", "hello-", "hello-01", "hello--1", "hello-99999999999999999999", "\0", "../hello-0"] as const;

const str = (s: fc.Arbitrary<Str>): fc.Arbitrary<FieldValue> => s.map((v) => ({ t: "str" as const, s: v }));

/** TaskLog's `task`: the examples' task names, task-ID shapes, and paths that must never become one. */
const TASK_REFS = [
  "hello-0-server", "world-0-server", "world-1-server", "world-0-init", "world-0-finish", "hello-0-first", "hello-0-second", "hello-1-server",
  "", ".", "..", "...", "../../etc/passwd", "../../../../../../etc/shadow", "/etc/passwd", "/proc/self/environ", "hello-0-server/../../cluster.json",
  "..%2f..%2fetc%2fpasswd", "..\\..\\x", "hello-0-server\0", "\0", "hello-0-server\n", "~root", "*", "hello-0-server ", "HELLO-0-SERVER", "😀",
  "hello__hello-0-server__00000000-0000-0000-0000-000000000000", "..__hello-0-server__x", "a__b__c__d", "sandboxes", "stdout",
] as const;

/** A varint: these values, plus any uint64. */
const intArb = (...values: bigint[]): fc.Arbitrary<FieldValue> =>
  fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...values) },
    { weight: 1, arbitrary: fc.bigInt(0n, (1n << 64n) - 1n) },
  ).map((v): FieldValue => ({ t: "int", v }));

const U32_EDGES = [0n, 1n, 2n, 10n, 1000n, (1n << 31n) - 1n, (1n << 31n), (1n << 32n) - 1n];

/** Secret names: valid ones, and ones that would leave the store's directory or name no file. */
const SECRET_NAMES = [
  "a", "hello-world/secret1", "s.1_x", "A/B/C", "", ".", "..", "../x", "a/../../etc/passwd", "/etc/passwd", "a/", "/a", "a//b", ".hidden", "a/.b",
  "a\0b", "\0", "a b", "a\nb", "%2e%2e", "a%2Fb", "ünï", "😀", "a".repeat(255), "a".repeat(256), "-a", "_a", "CON", "a:b",
] as const;
const secretNameArb = strArb(SECRET_NAMES);
const secretValueArb = fc.oneof(
  strArb(["", "v", "\0", "x\ny", "😀"]),
  fc.constantFrom(65_535, 65_536, 65_537, 100_000, 1_048_576).map((n): Str => ({ k: "rep", unit: "s", n })),
);

/** GetEndpoints' port_name: the examples' port names and names no service has. */
const PORT_NAMES = ["", "http", "web", "metrics", "nope", "\0", "../http", "HTTP", "😀", "a".repeat(300)] as const;

/** The fields of each RPC's request, by proto method name. */
export const GENERATORS: Readonly<Record<string, fc.Arbitrary<Readonly<Record<string, FieldValue>>>>> = {
  PutService: fc.record(
    {
      name: str(nameArb),
      spec: specArb.map((spec): FieldValue => ({ t: "spec", spec })),
      parameters: paramsArb.map((p): FieldValue => ({ t: "params", p })),
      // Absent (no check), 0 (must not exist), the generations the fuzz's services reach, any uint64.
      expectedGeneration: intArb(0n, 1n, 2n, 3n, 2n ** 53n - 1n, 2n ** 53n, (1n << 64n) - 1n),
      dryRun: intArb(0n, 1n, 2n),
    },
    { requiredKeys: ["name", "spec", "parameters"] },
  ),
  UninstallService: fc.record({ name: str(nameArb) }),
  WatchUninstall: fc.record({
    names: namesArb.map((names): FieldValue => ({ t: "names", names })),
    after: u64Arb.map((u): FieldValue => ({ t: "u64", u })),
  }),
  ListServices: fc.constant({}),
  GetService: fc.record({ name: str(nameArb) }),
  GetPlan: fc.record({ name: str(nameArb), plan: str(strArb(PLAN_NAMES)) }),
  GetScheduler: fc.constant({}),
  ListTasks: fc.record({ name: str(nameArb) }),
  TaskLog: fc.oneof(
    fc.record({
      name: str(nameArb),
      task: str(strArb(TASK_REFS)),
      // 0 and 1 stdout, 2 stderr; the rest are values the proto does not name (an int32 read of 2^64-1 is -1).
      file: intArb(0n, 1n, 2n, 3n, 99n, (1n << 31n) - 1n, (1n << 64n) - 1n),
      offset: u64Arb.map((u): FieldValue => ({ t: "u64", u })),
      tailLines: intArb(...U32_EDGES),
      // Follow with the fuzz's short stream deadline: an open stream must end by it, cleanly.
      follow: intArb(0n, 1n, 2n),
    }),
    // A task of an existing service, as a well-meaning caller asks for it.
    fc.record({
      name: fc.nat(1000).map((i): FieldValue => ({ t: "str", s: { k: "existing", i } })),
      task: fc.constantFrom(...TASK_REFS.slice(0, 8)).map((v): FieldValue => ({ t: "str", s: { k: "lit", v } })),
      file: fc.constantFrom(0n, 1n, 2n).map((v): FieldValue => ({ t: "int", v })),
      offset: u64Arb.map((u): FieldValue => ({ t: "u64", u })),
      tailLines: intArb(...U32_EDGES),
      follow: fc.constantFrom(0n, 1n).map((v): FieldValue => ({ t: "int", v })),
    }),
  ),
  ListPlans: fc.record({ name: str(nameArb) }),
  ControlPlan: fc.oneof(
    fc.record({
      name: str(nameArb),
      plan: str(strArb(PLAN_NAMES)),
      // 1–6 the actions; 0 and the rest are values the proto does not name.
      action: intArb(0n, 1n, 2n, 3n, 4n, 5n, 6n, 7n, 99n, (1n << 31n) - 1n, (1n << 64n) - 1n),
      phase: str(strArb(PHASE_REFS)),
      step: str(strArb(STEP_REFS)),
      parameters: paramsArb.map((p): FieldValue => ({ t: "params", p })),
    }),
    // An action on an existing service's plan, as a well-meaning operator asks for it.
    fc.record({
      name: fc.nat(1000).map((i): FieldValue => ({ t: "str", s: { k: "existing", i } })),
      plan: fc.constantFrom("deploy", "recovery").map((v): FieldValue => ({ t: "str", s: { k: "lit", v } })),
      action: fc.constantFrom(1n, 2n, 3n, 4n, 5n, 6n).map((v): FieldValue => ({ t: "int", v })),
      phase: str(strArb(PHASE_REFS)),
      step: str(strArb(STEP_REFS)),
    }),
  ),
  ListPods: fc.record({ name: str(nameArb) }),
  ControlPod: fc.oneof(
    fc.record({
      name: str(nameArb),
      pod: str(strArb(POD_REFS)),
      action: intArb(0n, 1n, 2n, 3n, 4n, 5n, 99n, (1n << 64n) - 1n),
    }),
    fc.record({
      name: fc.nat(1000).map((i): FieldValue => ({ t: "str", s: { k: "existing", i } })),
      pod: fc.constantFrom(...POD_REFS.slice(0, 4)).map((v): FieldValue => ({ t: "str", s: { k: "lit", v } })),
      action: fc.constantFrom(1n, 2n, 3n, 4n).map((v): FieldValue => ({ t: "int", v })),
    }),
  ),
  WatchPlans: fc.record({
    names: namesArb.map((names): FieldValue => ({ t: "names", names })),
    after: u64Arb.map((u): FieldValue => ({ t: "u64", u })),
  }),
  // Values around the 64 KiB limit and the 1 MiB request limit; names that must not leave the store.
  PutSecret: fc.record({ name: str(secretNameArb), value: str(secretValueArb) }, { requiredKeys: ["name"] }),
  ListSecrets: fc.constant({}),
  DeleteSecret: fc.record({ name: str(secretNameArb) }),
  GetEndpoints: fc.oneof(
    fc.record({ serviceName: str(nameArb), portName: str(strArb(PORT_NAMES)) }, { requiredKeys: [] }),
    // An existing service, as a well-meaning caller asks for it.
    fc.record({
      serviceName: fc.nat(1000).map((i): FieldValue => ({ t: "str", s: { k: "existing", i } })),
      portName: fc.constantFrom(...PORT_NAMES.slice(0, 4)).map((v): FieldValue => ({ t: "str", s: { k: "lit", v } })),
    }),
  ),
};

/** Methods of the service descriptor that have no generator (must be empty). */
export function missingGenerators(): string[] {
  return MultiServiceAdmin.methods.map((m) => m.name).filter((n) => GENERATORS[n] === undefined);
}

export function checkCoverage(): void {
  const missing = missingGenerators();
  if (missing.length > 0) {
    throw new Error(`the fuzz has no generator for ${missing.map((n) => `${MultiServiceAdmin.typeName}/${n}`).join(", ")}: add one to test/fuzz/generators.ts`);
  }
}

const rawArb: fc.Arbitrary<RawMutation> = fc.oneof(
  fc.record({ op: fc.constant("wiretype" as const), index: fc.nat(8), wt: fc.constantFrom(0, 1, 3, 4, 5, 6, 7) }),
  fc.record({ op: fc.constant("group" as const), index: fc.nat(8), close: fc.boolean() }),
  fc.record({ op: fc.constant("flip" as const), at: fc.nat(10_000), xor: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ op: fc.constant("truncate" as const), at: fc.nat(10_000) }),
  fc.record({ op: fc.constant("append" as const), bytes: fc.array(fc.nat(255), { minLength: 1, maxLength: 16 }) }),
  fc.record({ op: fc.constant("unknown" as const), no: fc.constantFrom(4, 15, 16, 1000, 536_870_911), wt: fc.constantFrom(0, 1, 2, 3, 5), bytes: fc.array(fc.nat(255), { maxLength: 8 }) }),
  fc.record({ op: fc.constant("duplicate" as const), index: fc.nat(8) }),
  fc.record({ op: fc.constant("random" as const), bytes: fc.array(fc.nat(255), { maxLength: 64 }) }),
);

/** Every kind of case, every RPC of the descriptor, in descriptor order. */
export function caseArb(): fc.Arbitrary<FuzzCase> {
  checkCoverage();
  const calls = MultiServiceAdmin.methods.map((m) => ({
    weight: m.name === "PutService" ? 8 : 3,
    arbitrary: fc
      .record({ fields: GENERATORS[m.name]!, raw: fc.option(rawArb, { freq: 4, nil: undefined }) })
      .map(({ fields, raw }): FuzzCase => (raw === undefined ? { kind: "call", rpc: m.name, fields } : { kind: "call", rpc: m.name, fields, raw })),
  }));
  return fc.oneof(
    ...calls,
    {
      weight: 2,
      arbitrary: fc
        .record({ base: fc.nat(SPEC_BASES.length - 1), dryRun: fc.nat(3).map((n) => n === 0) })
        .map(({ base, dryRun }): FuzzCase => ({ kind: "valid-put", rpc: "PutService", base, dryRun })),
    },
    { weight: 1, arbitrary: fc.nat(1000).map((i): FuzzCase => ({ kind: "valid-uninstall", rpc: "UninstallService", i })) },
    { weight: 1, arbitrary: fc.constantFrom(1000, 5000, 30_000, 120_000).map((ms): FuzzCase => ({ kind: "advance", rpc: "-", ms })) },
    { weight: 3, arbitrary: fc.nat(STRICT_RULES.length - 1).map((rule): FuzzCase => ({ kind: "strict", rpc: "PutService", rule })) },
  );
}

// ---------------------------------------------------------------------------------------------
// Materialization.

export interface Context {
  readonly existing: readonly string[];
  /** A name no service has had. */
  fresh(): string;
  /** The newest uninstall event's sequence number. */
  readonly lastEvent: bigint;
}

/** Generated bodies stay near the server's 1 MiB request limit (a little over, to hit it). */
const MAX_BODY_CHARS = 1_200_000;

export function strValue(s: Str, ctx: Context): string {
  switch (s.k) {
    case "lit":
      return s.v;
    case "rep": {
      if (s.n === 0) return "";
      const whole = s.unit.repeat(Math.ceil(s.n / s.unit.length));
      return whole.slice(0, s.n);
    }
    case "existing":
      return ctx.existing.length === 0 ? "nothing-exists" : ctx.existing[s.i % ctx.existing.length]!;
    case "fresh":
      return ctx.fresh();
  }
}

function u64Value(u: U64, ctx: Context): bigint {
  if (u.k === "any") return u.v;
  switch (u.e) {
    case "0": return 0n;
    case "1": return 1n;
    case "last": return ctx.lastEvent;
    case "last+1": return ctx.lastEvent + 1n;
    case "2^63-1": return (1n << 63n) - 1n;
    case "2^63": return 1n << 63n;
    case "2^64-1": return (1n << 64n) - 1n;
  }
}

function namesValue(d: NamesDesc, ctx: Context): string[] {
  const item = strValue(d.item, ctx);
  const out: string[] = [];
  // At most ~1.2 MiB in all: beyond the server's 1 MiB request limit, more only costs memory here.
  const n = Math.min(d.n, Math.max(1, Math.floor(MAX_BODY_CHARS / (item.length + 8))));
  for (let i = 0; i < n; i++) {
    if (d.mix === "same") out.push(item);
    else if (d.mix === "indexed") out.push(`${item}-${i}`);
    else out.push(ctx.existing.length === 0 ? `${item}-${i}` : ctx.existing[i % ctx.existing.length]!);
  }
  return out;
}

/** Lines of `text` that set `key`, as [index, indent, rest]. */
function keyLines(lines: readonly string[], key: string): number[] {
  const re = new RegExp(`^\\s*(- )?${key.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:`);
  return lines.flatMap((l, i) => (re.test(l) ? [i] : []));
}

function setKey(text: string, key: string, occ: number, value: string): string {
  const lines = text.split("\n");
  const hits = keyLines(lines, key);
  if (hits.length === 0) return `${text}\n${key}: ${value}\n`;
  const i = hits[occ % hits.length]!;
  const line = lines[i]!;
  const colon = line.indexOf(`${key}:`) + key.length + 1;
  const indent = /^\s*/.exec(line)![0];
  // A block value below the key (`cmd: |`): drop its lines too.
  let end = i + 1;
  if (/[|>][+-]?\s*$/.test(line)) while (end < lines.length && (lines[end]!.trim() === "" || /^\s*/.exec(lines[end]!)![0].length > indent.length)) end++;
  const multi = value.split("\n");
  const rendered = [line.slice(0, colon) + " " + multi[0], ...multi.slice(1).map((l) => indent + l)];
  lines.splice(i, end - i, ...rendered);
  return lines.join("\n");
}

/** YAML double-quoted form of any string (JSON string syntax is valid YAML). */
const quote = (s: string): string => JSON.stringify(s);

function insertAfterCmd(text: string, line: string): string {
  const lines = text.split("\n");
  const i = lines.findIndex((l) => /^\s*cmd:\s*[^|>\s]/.test(l));
  if (i < 0) return `${text}\n${line}\n`;
  const indent = /^\s*/.exec(lines[i]!)![0];
  lines.splice(i + 1, 0, indent + line);
  return lines.join("\n");
}

function appendToCmd(text: string, extra: string): string {
  const lines = text.split("\n");
  const i = lines.findIndex((l) => /^\s*cmd:\s*[^|>\s]/.test(l));
  if (i < 0) return text + extra;
  lines[i] = lines[i]! + " " + extra;
  return lines.join("\n");
}

function applyMutation(text: string, m: SpecMutation, ctx: Context): string {
  switch (m.m) {
    case "scalar":
      return setKey(text, m.key, m.occ, m.val);
    case "string":
      return setKey(text, m.key, m.occ, quote(strValue(m.val, ctx)));
    case "inject":
      return insertAfterCmd(text, m.line);
    case "nest": {
      const d = m.depth;
      const value =
        m.style === "seq" ? "[".repeat(d) + "]".repeat(d) : m.style === "map" ? "{a: ".repeat(d) + "1" + "}".repeat(d) : Array.from({ length: Math.min(d, 1400) }, (_, i) => `${" ".repeat(i)}a:`).join("\n") + " 1";
      return m.style === "block" ? `${text}\nx:\n ${value.split("\n").join("\n ")}\n` : `${text}\nx: ${value}\n`;
    }
    case "alias": {
      if (m.style === "undefined") return `${text}\nx: *nope\n`;
      if (m.style === "merge") return `${text}\nbase: &b {cpus: 1e308, count: 1.5}\nx:\n  <<: *b\n  <<: [*b, *b]\n`;
      if (m.style === "many") return `${text}\na: &a x\nx: [${Array.from({ length: m.n }, () => "*a").join(", ")}]\n`;
      const levels = Math.min(m.n, 12);
      const lines = [`l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]`];
      for (let i = 1; i < levels; i++) lines.push(`l${i}: &l${i} [${Array.from({ length: 9 }, () => `*l${i - 1}`).join(",")}]`);
      return `${text}\n${lines.join("\n")}\n`;
    }
    case "directive":
      return `${m.d}\n---\n${text}`;
    case "template":
      if (m.where === "top") return `${m.c}\n${text}`;
      if (m.where === "name") return setKey(text, "name", 0, m.c);
      return appendToCmd(text, m.c);
    case "sections": {
      const open = `{{${m.open}A}}`.repeat(m.depth);
      const close = m.closed ? "{{/A}}".repeat(m.depth) : "";
      return appendToCmd(text, open + (m.text ? "x" : "") + close);
    }
    case "truncate":
      return text.slice(0, m.at % (text.length + 1));
    case "pad": {
      if (m.how === "comment") return `${text}\n# ${"x".repeat(m.size)}\n`;
      if (m.how === "key") return `${text}\n${"k".repeat(m.size)}: 1\n`;
      return appendToCmd(text, "y".repeat(m.size));
    }
    case "char": {
      const at = m.at % (text.length + 1);
      return text.slice(0, at) + m.ch + text.slice(at);
    }
    case "dup": {
      const lines = text.split("\n");
      const i = keyLines(lines, m.key)[0];
      if (i === undefined) return text;
      lines.splice(i + 1, 0, lines[i]!);
      return lines.join("\n");
    }
    case "docs":
      return Array.from({ length: Math.min(m.n, Math.max(1, Math.floor(MAX_BODY_CHARS / (text.length + 5)))) }, () => text).join("\n---\n");
  }
}

export function specText(d: SpecDesc, ctx: Context): { text: string; params: Record<string, string> } {
  const base = d.base >= 0 ? SPEC_BASES[d.base % SPEC_BASES.length]! : undefined;
  let text = base?.text ?? d.text ?? "";
  for (const m of d.muts) text = applyMutation(text, m, ctx).slice(0, MAX_BODY_CHARS);
  const params: Record<string, string> = { ...(base?.params ?? {}) };
  if (d.muts.some((m) => m.m === "sections" && m.set)) params["A"] = "1";
  return { text, params };
}

/** The request value of a `call` case. */
export function requestValue(c: FuzzCase & { kind: "call" }, ctx: Context): RequestValue {
  const out: Record<string, RequestValue[string]> = {};
  let baseParams: Record<string, string> = {};
  for (const [field, v] of Object.entries(c.fields)) {
    switch (v.t) {
      case "str":
        out[field] = strValue(v.s, ctx);
        break;
      case "spec": {
        const { text, params } = specText(v.spec, ctx);
        out[field] = text;
        baseParams = params;
        break;
      }
      case "names":
        out[field] = namesValue(v.names, ctx);
        break;
      case "u64":
        out[field] = u64Value(v.u, ctx);
        break;
      case "int":
        out[field] = v.v;
        break;
      case "params":
        break;
    }
  }
  const params = Object.values(c.fields).find((v) => v.t === "params");
  if (params?.t === "params") {
    // The base's parameters (and A for nested sections) unless the case drops them.
    const map: Record<string, string> = params.p.preset ? { ...baseParams } : baseParams["A"] === undefined ? {} : { A: "1" };
    for (const [k, v] of params.p.extra) map[strValue(k, ctx)] = strValue(v, ctx);
    out["parameters"] = map;
  } else if (Object.keys(baseParams).length > 0) {
    out["parameters"] = baseParams;
  }
  return out;
}

/** The bytes of a `call` case: the canonical encoding, damaged by `raw` when present. */
export function requestBytes(schema: DescMessage, c: FuzzCase & { kind: "call" }, ctx: Context): Buffer {
  const records = toRecords(schema, requestValue(c, ctx));
  return c.raw === undefined ? encodeRecords(records) : damage(records, c.raw);
}

function damage(records: readonly WireRecord[], raw: RawMutation): Buffer {
  const pick = (i: number): number => (records.length === 0 ? -1 : i % records.length);
  switch (raw.op) {
    case "wiretype": {
      const i = pick(raw.index);
      if (i < 0) return encodeRecords([{ no: 1, wt: raw.wt, payload: varint(3) }]);
      return encodeRecords(records.map((r, j) => (j === i ? { ...r, wt: raw.wt } : r)));
    }
    case "group": {
      const i = pick(raw.index);
      if (i < 0) return Buffer.concat([tag(1, WT.SGROUP), raw.close ? tag(1, WT.EGROUP) : Buffer.alloc(0)]);
      const r = records[i]!;
      const grouped = Buffer.concat([tag(r.no, WT.SGROUP), r.payload, raw.close ? tag(r.no, WT.EGROUP) : Buffer.alloc(0)]);
      return Buffer.concat(records.map((x, j) => (j === i ? grouped : encodeRecords([x]))));
    }
    case "flip": {
      const b = encodeRecords(records);
      if (b.length === 0) return Buffer.from([raw.xor]);
      const at = raw.at % b.length;
      b[at] = b[at]! ^ raw.xor;
      return b;
    }
    case "truncate": {
      const b = encodeRecords(records);
      return b.subarray(0, b.length === 0 ? 0 : raw.at % b.length);
    }
    case "append":
      return Buffer.concat([encodeRecords(records), Buffer.from(raw.bytes)]);
    case "unknown": {
      const data = Buffer.from(raw.bytes);
      const payload =
        raw.wt === WT.LEN ? Buffer.concat([varint(data.length), data])
        : raw.wt === WT.VARINT ? varint(data.reduce((a, b) => a * 256 + b, 0))
        : raw.wt === WT.I64 ? Buffer.concat([data, Buffer.alloc(8)]).subarray(0, 8)
        : raw.wt === WT.I32 ? Buffer.concat([data, Buffer.alloc(4)]).subarray(0, 4)
        : Buffer.concat([encodeRecords([lenRecord(1, data)]), tag(raw.no, WT.EGROUP)]);
      return Buffer.concat([encodeRecords(records), tag(raw.no, raw.wt), payload]);
    }
    case "duplicate": {
      const i = pick(raw.index);
      return encodeRecords(i < 0 ? records : [...records, records[i]!]);
    }
    case "random":
      return Buffer.from(raw.bytes);
  }
}

/** A fuzz case in a few lines: long literals cut, bigints as strings. */
export function describeCase(c: FuzzCase): string {
  if (c.kind === "strict") {
    const rule = STRICT_RULES[c.rule]!;
    return JSON.stringify({ kind: c.kind, base: SPEC_BASES[STRICT_BASE]!.file, mutation: rule.mutation, expect: rule.expect });
  }
  return JSON.stringify(c, (_k, v: unknown) => {
    if (typeof v === "bigint") return `${v}n`;
    if (typeof v === "string" && v.length > 200) return `${v.slice(0, 200)}…(${v.length} chars)`;
    return v;
  });
}
