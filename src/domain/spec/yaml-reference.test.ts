import { describe, expect, it } from "vitest";
import { TASK, expectViolation, indent, specText as spec } from "../../../test/fixtures/spec-text.js";
import { parseServiceSpec } from "./parse.js";
import { YamlDocCache } from "./yaml-cache.js";

const T = "spec.pods.hello.tasks.server";

describe("YAML as the reference's parser (SnakeYAML through Jackson) reads it", () => {
  it.each(["yes", "Yes", "YES", "y", "Y", "on", "ON", "true", "True"])("%s is true where a boolean is expected", (word) => {
    expect(parseServiceSpec(spec({ pod: `allow-decommission: ${word}` })).spec.pods[0]?.allowDecommission).toBe(true);
  });

  it.each(["no", "No", "n", "N", "off", "OFF", "false", "FALSE"])("%s is false where a boolean is expected", (word) => {
    expect(parseServiceSpec(spec({ task: `${TASK}\nessential: ${word}` })).spec.pods[0]?.tasks[0]?.essential).toBe(false);
  });

  it("still refuses a word that is no boolean, naming the YAML 1.1 spellings", () => {
    expectViolation(spec({ task: `${TASK}\nessential: maybe` }), `${T}.essential`, /^must be true or false \(YAML 1\.1: yes\/no, on\/off, y\/n\), got 'maybe'$/);
  });

  it("keeps the last value of a duplicate key, with a warning naming the key and line", () => {
    const text = spec({ task: `${TASK}\ncmd: second\nenv: {A: 1, A: 2}` });
    const parsed = parseServiceSpec(text);
    expect(parsed.spec.pods[0]?.tasks[0]?.cmd).toBe("second");
    expect(parsed.spec.pods[0]?.tasks[0]?.env).toEqual({ A: "2" });
    expect(parsed.warnings).toEqual([
      { field: `${T}.cmd`, message: expect.stringMatching(/^duplicate key 'cmd' \(line \d+, column \d+\): the last value is used, as the reference's parser does$/) },
      { field: `${T}.env.A`, message: expect.stringMatching(/^duplicate key 'A' \(line \d+, column \d+\)/) },
    ]);
  });

  it("repeats the duplicate-key warning when a cache could reuse the document", () => {
    const cache = new YamlDocCache();
    const text = spec({ task: `${TASK}\ncmd: second` });
    for (let i = 0; i < 2; i++) {
      expect(parseServiceSpec(text, { cache, family: "f" }).warnings.map((w) => w.field)).toEqual([`${T}.cmd`]);
    }
  });

  it.each([
    ["tasks", spec({ tasks: `server:\n${indent(TASK, 2)}\nserver:\n${indent(TASK, 2)}` }), "spec.pods.hello.tasks"],
    ["ports", spec({ task: `${TASK}\nports:\n  p: {port: 0}\n  p: {port: 1}` }), `${T}.ports`],
    ["rlimits", spec({ pod: "rlimits:\n  RLIMIT_NOFILE: {}\n  RLIMIT_NOFILE: {}" }), "spec.pods.hello.rlimits"],
  ])("refuses a duplicate entry of %s, which the reference reads write-once", (name, text, field) => {
    expectViolation(text, field, new RegExp(`^duplicate ${name} entry '.+' \\(line \\d+, column \\d+\\)$`));
  });

  it("reads a mapping nested in a compact mapping under a sequence item", () => {
    const text = spec({
      task: `${TASK}\nports:\n  p:\n    port: 0\n    ranges:\n      - begin: 1024\n        end: 2048\n      - begin: 3000\n        end:`,
      tail: "plans:\n  deploy:\n    phases:\n      p:\n        pod: hello\n        steps:\n          - default:\n              - [server]",
    });
    const parsed = parseServiceSpec(text);
    expect(parsed.spec.pods[0]?.resourceSets[0]?.ports[0]?.ranges).toEqual([
      { begin: 1024, end: 2048 },
      { begin: 3000, end: 65535 },
    ]);
    expect(parsed.spec.plans[0]?.phases[0]?.steps?.get("default")).toEqual([["server"]]);
  });

  it("still gives a line and column for a real syntax error", () => {
    expectViolation(spec({ task: `${TASK}\nenv: {A: [1, 2}` }), "spec", /^YAML syntax error: .*\(line \d+, column \d+\)$/);
  });
});

describe("pod types and task names as the reference accepts them", () => {
  it("allows capitals (custom-pod-A)", () => {
    const text = spec({ tasks: `Server-A:\n${indent(TASK, 2)}` }).replace("  hello:", "  custom-pod-A:");
    const parsed = parseServiceSpec(text);
    expect(parsed.spec.pods[0]?.type).toBe("custom-pod-A");
    expect(parsed.spec.pods[0]?.tasks[0]?.name).toBe("Server-A");
  });

  it("refuses two pod types that differ only in case (host names are case-insensitive)", () => {
    const text = spec({ tail: `  Hello:\n    count: 1\n    tasks:\n      server:\n${indent(TASK, 8)}` });
    expectViolation(text, "spec.pods.Hello", /differs from pod type hello only in case/);
  });

  it("refuses two task names that differ only in case", () => {
    const text = spec({ tasks: `server:\n${indent(TASK, 2)}\nSERVER:\n${indent(TASK, 2)}` });
    expectViolation(text, "spec.pods.hello.tasks.SERVER", /differs from task server only in case/);
  });

  it.each(["a_b", "-a", "a-", "a.b"])("refuses pod type %s", (type) => {
    expectViolation(spec().replace("  hello:", `  ${type}:`), `spec.pods.${type}`, /pod type must be a DNS label/);
  });
});
