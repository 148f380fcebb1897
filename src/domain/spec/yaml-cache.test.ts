import { parseDocument } from "yaml";
import { describe, expect, it } from "vitest";
import { SchedulerError } from "../errors.js";
import { parseServiceSpec } from "./parse.js";
import { renderTemplate } from "./template.js";
import { YamlDocCache } from "./yaml-cache.js";

const OPTIONS = { schema: "failsafe", uniqueKeys: true, prettyErrors: false } as const;
/** examples/hello-world.yml without its comments (src/domain does no I/O). */
const HELLO = String.raw`name: {{SERVICE_NAME}}
pods:
  hello:
    count: 1
    placement: '[["hostname", "UNIQUE"]]'
    tasks:
      server:
        goal: RUNNING
        cmd: echo hello >> hello-container-path/output && sleep 1000
        cpus: 0.1
        memory: 252
        volume:
          path: hello-container-path
          type: ROOT
          size: 25
        health-check:
          cmd: stat hello-container-path/output
          interval: 5
          grace-period: 30
          delay: 0
          timeout: 10
          max-consecutive-failures: 3
  world:
    count: 2
    allow-decommission: true
    tasks:
      server:
        goal: RUNNING
        cmd: |
          trap 'echo "received SIGTERM, cleaning up"; sleep 3; exit 0' TERM
          echo world1 >> world-container-path1/output
          echo world2 >> world-container-path2/output
          while true; do sleep 1; done
        cpus: 0.2
        memory: 512
        volumes:
          vol1:
            path: world-container-path1
            type: ROOT
            size: 25
          vol2:
            path: world-container-path2
            type: ROOT
            size: 25
        readiness-check:
          cmd: BYTES="$(wc -c world-container-path2/output 2>/dev/null | awk '{print $1;}')" && [ 0$BYTES -gt 0 ]
          interval: 5
          delay: 0
          timeout: 10
        kill-grace-period: 10
`;

/** What parsing gives, as comparable data: the spec and warnings, or the error. */
function outcome(fn: () => unknown): unknown {
  try {
    return { ok: fn() };
  } catch (err) {
    if (!(err instanceof SchedulerError)) throw err;
    return { code: err.code, message: err.message, violations: err.violations };
  }
}

/** Fresh parse and parse through `cache` agree for every name, in the order given. */
function expectSameForNames(template: string, names: readonly string[], cache = new YamlDocCache()): void {
  for (const name of names) {
    const params = { SERVICE_NAME: name, FRAMEWORK_NAME: name, X: "x" };
    const family = `${name.length}`;
    const fresh = outcome(() => parseServiceSpec(renderTemplate(template, params)));
    const reused = outcome(() => parseServiceSpec(renderTemplate(template, params), { cache, family }));
    expect(reused, `${name} in ${JSON.stringify(template)}`).toEqual(fresh);
  }
}

const NAMES = ["abc", "xyz", "a-b", "a/b", "null", "true", "1-2", "x1y", "cmd", "foo", "abd", "zz9", "goal", "once"];

/** Spec templates with the name in places that are and are not reusable. */
const TEMPLATES: readonly string[] = [
  HELLO,
  "name: {{SERVICE_NAME}}\npods:\n  p:\n    count: 1\n    tasks:\n      t: {cmd: 'echo {{SERVICE_NAME}}', cpus: 1, memory: 32}\n",
  'name: "{{SERVICE_NAME}}"\npods:\n  p:\n    count: 1\n    tasks:\n      t:\n        cmd: "run {{SERVICE_NAME}} now"\n        cpus: 1\n        memory: 32\n',
  // The name as a key, next to keys it may equal (duplicates are a YAML error).
  "name: {{SERVICE_NAME}}\npods:\n  {{SERVICE_NAME}}:\n    count: 1\n    tasks:\n      t: {cmd: x, cpus: 1, memory: 32}\n  foo:\n    count: 1\n    tasks:\n      t: {cmd: x, cpus: 1, memory: 32}\n",
  "name: {{SERVICE_NAME}}\npods:\n  p:\n    count: 1\n    tasks:\n      t:\n        cmd: x\n        cpus: 1\n        memory: 32\n        env:\n          {{SERVICE_NAME}}: a\n          abc: b\n          null: c\n",
  // The name where validation reads values: goals, counts, booleans, enums.
  "name: {{SERVICE_NAME}}\npods:\n  p:\n    count: 1\n    tasks:\n      t: {cmd: x, cpus: 1, memory: 32, goal: {{SERVICE_NAME}}}\n",
  "name: {{SERVICE_NAME}}\npods:\n  p:\n    count: {{SERVICE_NAME}}\n    tasks:\n      t: {cmd: x, cpus: 1, memory: 32, essential: {{SERVICE_NAME}}}\n",
  "name: {{SERVICE_NAME}}\npods:\n  p:\n    count: 1\n    tasks:\n      {{SERVICE_NAME}}: {cmd: x, cpus: 1, memory: 32}\n",
  // Block scalars, comments, anchors, aliases and tags: not reused, still right.
  "name: {{SERVICE_NAME}}\npods:\n  p:\n    count: 1\n    tasks:\n      t:\n        cmd: |\n          echo {{SERVICE_NAME}}\n          done\n        cpus: 1\n        memory: 32\n",
  "name: {{SERVICE_NAME}} # {{SERVICE_NAME}}\npods:\n  p: &{{SERVICE_NAME}}\n    count: 1\n    tasks:\n      t: {cmd: x, cpus: 1, memory: 32}\n  q: *{{SERVICE_NAME}}\n",
  "name: {{SERVICE_NAME}}\npods:\n  p: &foo\n    count: 1\n    tasks:\n      t: {cmd: x, cpus: 1, memory: 32}\n  q: *{{SERVICE_NAME}}\n",
  "name: !!str {{SERVICE_NAME}}\npods:\n  p:\n    count: 1\n    tasks:\n      t: {cmd: !{{SERVICE_NAME}} x, cpus: 1, memory: 32}\n",
  // Escapes next to the name; a name forming `---` or a seq indicator.
  'name: {{SERVICE_NAME}}\npods:\n  p:\n    count: 1\n    tasks:\n      t: {cmd: "\\{{SERVICE_NAME}}", cpus: 1, memory: 32}\n',
  "name: {{SERVICE_NAME}}\npods:\n  p:\n    count: 1\n    tasks:\n      t:\n        cmd: x-{{SERVICE_NAME}}\n        cpus: 1\n        memory: 32\n--{{SERVICE_NAME}}\n",
  "%YAML 1.1\n---\nname: {{SERVICE_NAME}}\nbase: &b {cmd: x, cpus: 1, memory: 32}\npods:\n  p:\n    count: 1\n    tasks:\n      t:\n        <<: *b\n        {{SERVICE_NAME}}: y\n",
  "name: {{SERVICE_NAME}}\npods: [{{SERVICE_NAME}}, {a: {{SERVICE_NAME}}}]\n",
  "name: {{SERVICE_NAME}}\npods:\n  p:\n    count: 1\n    tasks:\n      t: {cmd: x, cpus: 1, memory: 32}\nplans:\n  deploy:\n    phases:\n      {{SERVICE_NAME}}:\n        pod: p\n        steps:\n          - default: [[t]]\n",
  "{{SERVICE_NAME}}",
  "",
];

describe("YamlDocCache", () => {
  it.each(TEMPLATES.map((t, i) => ({ i, t })))("template $i: reused parses equal fresh parses", ({ t }) => {
    expectSameForNames(t, NAMES);
    expectSameForNames(t, [...NAMES].reverse());
  });

  it("reuses the document for same-length names of the hello-world template", () => {
    const cache = new YamlDocCache();
    const render = (name: string): string => renderTemplate(HELLO, { SERVICE_NAME: name, FRAMEWORK_NAME: name });
    parseServiceSpec(render("svc-0000001"), { cache, family: "f" });
    expect(cache.documentFor("f", render("svc-0000002"))).toBeDefined();
    expect(cache.documentFor("f", render("team/db-000"))).toBeDefined();
    expect(cache.documentFor("f", render("svc-000001"))).toBeUndefined(); // other length
    const text = render("svc-0000003");
    const { spec } = parseServiceSpec(text, { cache, family: "f" });
    expect(spec).toEqual(parseServiceSpec(text).spec);
    expect(spec.name).toBe("svc-0000003");
  });

  it("misses on a change outside a one-line scalar, and on a key that becomes a duplicate", () => {
    const cache = new YamlDocCache();
    const base = "a: abc\nb: [x, y]\nc: |\n  abc\n";
    cache.remember("f", base, parseDocument(base, OPTIONS));
    expect(cache.documentFor("f", "a: xyz\nb: [x, y]\nc: |\n  abc\n")?.toJS({ mapAsMap: true })).toEqual(
      new Map<string, unknown>([["a", "xyz"], ["b", ["x", "y"]], ["c", "abc\n"]]),
    );
    expect(cache.documentFor("f", "a: abc\nb: [x, y]\nc: |\n  xyz\n")).toBeUndefined(); // block scalar
    expect(cache.documentFor("f", "a: a c\nb: [x, y]\nc: |\n  abc\n")).toBeUndefined(); // space
    expect(cache.documentFor("f", "a: abc\nb: [x: y]\nc: |\n  abc\n")).toBeUndefined(); // indicator
    const dashes = "-ab # c\n";
    cache.remember("d", dashes, parseDocument(dashes, OPTIONS));
    expect(cache.documentFor("d", "--- # c\n")).toBeUndefined(); // a document marker
    expect(cache.documentFor("d", "-xy # c\n")?.toJS()).toBe("-xy");
    const keys = "abc: 1\nxyz: 2\n";
    cache.remember("k", keys, parseDocument(keys, OPTIONS));
    expect(cache.documentFor("k", "abc: 1\nabc: 2\n")).toBeUndefined();
    expect(cache.documentFor("k", "abd: 1\nabc: 2\n")?.toJS()).toEqual({ abd: "1", abc: "2" });
    // The previous call's values do not leak into the next.
    expect(cache.documentFor("k", keys)?.toJS()).toEqual({ abc: "1", xyz: "2" });
  });

  it("reuses a 60,000-key flow map whose every key changes, checking duplicates in linear time", { timeout: 8_000 }, () => {
    // Column by `lastIndexOf` and each changed key compared with all others were quadratic here.
    const map = (c: string): string => `x: {${Array.from({ length: 60_000 }, (_, i) => `${c}${i.toString(36).padStart(4, "0")}`).join(", ")}}\n`;
    const cache = new YamlDocCache();
    const base = map("a");
    cache.remember("f", base, parseDocument(base, { ...OPTIONS, uniqueKeys: false })); // yaml's check is quadratic
    const doc = cache.documentFor("f", map("b"));
    expect((doc?.toJS({ mapAsMap: true }) as Map<string, Map<string, unknown>>).get("x")?.has("b0zzz")).toBe(true);
    const dup = map("c").replace("c0001", "c0000");
    expect(cache.documentFor("f", dup)).toBeUndefined();
  });

  it("never reuses a document with tags, warnings or a YAML 1.1 directive", () => {
    for (const text of ["a: !!str abc\n", "%YAML 1.1\n---\na: abc\n", "%FOO bar\n---\na: abc\n"]) {
      const cache = new YamlDocCache();
      cache.remember("f", text, parseDocument(text, OPTIONS));
      expect(cache.documentFor("f", text), text).toBeUndefined();
    }
  });

  it("keeps at most maxEntries families, least recently used out first", () => {
    const cache = new YamlDocCache(2);
    for (const f of ["a", "b"]) cache.remember(f, "k: v\n", parseDocument("k: v\n", OPTIONS));
    cache.documentFor("a", "k: w\n");
    cache.remember("c", "k: v\n", parseDocument("k: v\n", OPTIONS));
    expect([cache.has("a"), cache.has("b"), cache.has("c")]).toEqual([true, false, true]);
  });

  it("keeps at most maxChars of remembered text", () => {
    const cache = new YamlDocCache(64, 20);
    const text = "k: 0123456789\n"; // 14 characters
    cache.remember("a", text, parseDocument(text, OPTIONS));
    cache.remember("b", text, parseDocument(text, OPTIONS));
    expect([cache.has("a"), cache.has("b")]).toEqual([false, true]);
    const big = `k: ${"x".repeat(30)}\n`;
    cache.remember("c", big, parseDocument(big, OPTIONS));
    expect(cache.documentFor("c", big)).toBeUndefined(); // too long to keep
    expect(cache.has("b")).toBe(true);
  });

  it("agrees with a fresh parse on random same-length edits of YAML texts", () => {
    // Deterministic LCG, so a failure reproduces.
    let seed = 12345;
    const rand = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    const bases = [
      HELLO.replaceAll("{{SERVICE_NAME}}", "svc-0000001"),
      "a: abc\n'q': 'x y'\n\"d\": \"p-q/r\"\nl: [a1, b2, {k: v9}]\nm:\n  - x\n  - y: z\nn: &an abc\no: *an\n",
      "-ab: x\nk: -cd\n-e-f: [-g, h-i]\n--j: k--\n-ab c: 1\n-de f: 2\n",
      "k1: v1\nk2: v2\nk3: {a: b, c: d}\nk4: plain text here # comment\nk5: 'it''s'\nk6: \"a\\tb\"\n",
    ];
    const alphabet = "abcxyz0189-/ :#,[]{}'\"\\\n!&*|>?%@`~\t";
    let hits = 0;
    for (let round = 0; round < 4000; round++) {
      const base = bases[round % bases.length]!;
      const cache = new YamlDocCache();
      cache.remember("f", base, parseDocument(base, OPTIONS));
      const chars = [...base];
      for (let edits = 1 + rand(4); edits > 0; edits--) {
        const at = rand(chars.length);
        const pool = rand(4) === 0 ? alphabet : "abcxyz0189-/";
        chars[at] = pool[rand(pool.length)]!;
      }
      if (rand(4) === 0) {
        // Dashes at a line start: `---` is a document marker, `- ` an entry.
        const starts = chars.flatMap((_, i) => (i === 0 || chars[i - 1] === "\n" ? [i] : []));
        const at = starts[rand(starts.length)]!;
        for (let k = rand(3); k >= 0 && at + k < chars.length; k--) chars[at + k] = "-";
      }
      const text = chars.join("");
      const doc = cache.documentFor("f", text);
      if (!doc) continue;
      hits++;
      const fresh = parseDocument(text, OPTIONS);
      expect(fresh.errors, text).toEqual([]);
      expect(fresh.warnings, text).toEqual([]);
      expect(doc.toJS({ mapAsMap: true }), text).toEqual(fresh.toJS({ mapAsMap: true }));
    }
    expect(hits).toBeGreaterThan(200);
  });
});
