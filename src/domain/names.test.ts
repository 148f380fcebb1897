import { describe, expect, it } from "vitest";
import { SchedulerError } from "./errors.js";
import { escapeServiceName, sanitizeServiceName, validateServiceName } from "./names.js";

describe("validateServiceName", () => {
  it.each([
    { name: "simple", value: "test1" },
    { name: "single char", value: "a" },
    { name: "leading digit", value: "0db" },
    { name: "hyphenated", value: "hello-world" },
    { name: "folder", value: "team/db" },
    { name: "nested folders", value: "path/to/service" },
    { name: "63 chars", value: "a".repeat(63) },
    { name: "63 chars without slashes", value: `${"a".repeat(32)}/${"b".repeat(31)}` },
  ])("accepts $name", ({ value }) => {
    expect(validateServiceName(value)).toEqual([]);
  });

  it.each([
    { name: "empty", value: "", reason: /must not be empty/ },
    { name: "uppercase", value: "Team", reason: /lowercase/ },
    { name: "double underscore", value: "a__b", reason: /must not contain '__'/ },
    { name: "dot", value: "a.b", reason: /must not contain '\.'/ },
    { name: "64 chars", value: "a".repeat(64), reason: /at most 63 characters/ },
    { name: "leading slash", value: "/lead", reason: /empty folder segment/ },
    { name: "trailing slash", value: "trail/", reason: /empty folder segment/ },
    { name: "empty segment", value: "a//b", reason: /empty folder segment/ },
    { name: "leading hyphen", value: "-a", reason: /start and end with a letter or digit/ },
    { name: "trailing hyphen", value: "a-", reason: /start and end/ },
    { name: "single underscore", value: "a_b", reason: /only a-z, 0-9 and '-'/ },
    { name: "space", value: "a b", reason: /only a-z/ },
  ])("rejects $name", ({ value, reason }) => {
    const violations = validateServiceName(value);
    expect(violations.length).toBeGreaterThan(0);
    expect(violations.every((v) => v.field === "name")).toBe(true);
    expect(violations.map((v) => v.reason).join("; ")).toMatch(reason);
  });

  it("looks only at the head of a 1 MiB `a/a/a…` name, and quotes no segment unbounded", () => {
    const huge = "a/".repeat(512 * 1024) + "B".repeat(1000);
    const reasons = validateServiceName(huge).map((v) => v.reason);
    expect(reasons).toEqual([`must be at most 63 characters without slashes (got ${512 * 1024 + 1000})`]);
    const oneLongSegment = validateServiceName("x_".repeat(100_000)).map((v) => v.reason);
    expect(oneLongSegment.join(" ").length).toBeLessThan(400);
  });

  it("reports each problem once", () => {
    const reasons = validateServiceName("A.B/C.D").map((v) => v.reason);
    expect(new Set(reasons).size).toBe(reasons.length);
  });
});

describe("sanitizeServiceName", () => {
  it.each([
    { name: "plain", value: "test1", want: "test1" },
    { name: "folders", value: "/path/to/svc", want: "path.to.svc" },
    { name: "extra slashes", value: "//path/to/service///", want: "path.to.service" },
    { name: "no leading slash", value: "team/db", want: "team.db" },
  ])("$name: $value → $want", ({ value, want }) => {
    expect(sanitizeServiceName(value)).toBe(want);
  });
});

describe("escapeServiceName", () => {
  it.each([
    { name: "plain", value: "test1", want: "test1" },
    { name: "leading slash dropped", value: "/path/to/svc", want: "path__to__svc" },
    { name: "folder", value: "team/db", want: "team__db" },
    { name: "only one leading slash dropped", value: "//a", want: "__a" },
  ])("$name: $value → $want", ({ value, want }) => {
    expect(escapeServiceName(value)).toBe(want);
  });

  it("rejects a name containing '__' as invalid_argument", () => {
    let caught: unknown;
    try {
      escapeServiceName("a__b");
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(SchedulerError);
    expect((caught as SchedulerError).code).toBe("invalid_argument");
    expect((caught as SchedulerError).violations).toEqual([
      { field: "name", reason: "must not contain '__'" },
    ]);
  });
});
