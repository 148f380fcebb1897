import { describe, expect, it } from "vitest";
import { KnownPaths } from "./known-paths.js";

describe("KnownPaths", () => {
  it("knows a path's ancestors with it, and forgets a subtree whole, leaves and inner nodes alike", () => {
    const known = new KnownPaths("/r");
    known.add("/r/a/b", known.epoch);
    expect(["/r", "/r/a", "/r/a/b"].map((p) => known.has(p))).toEqual([true, true, true]);
    // A cached leaf gains children; a sibling joins a cached parent.
    known.add("/r/a/b/c/d", known.epoch);
    known.add("/r/a/x", known.epoch);
    expect(known.size).toBe(5);
    known.drop("/r/a/b");
    expect(["/r/a", "/r/a/x", "/r/a/b", "/r/a/b/c", "/r/a/b/c/d"].map((p) => known.has(p))).toEqual([true, true, false, false, false]);
    // Re-adding below a dropped path rebuilds the chain.
    known.add("/r/a/b/c", known.epoch);
    expect(known.has("/r/a/b")).toBe(true);
    known.drop("/r/a");
    expect(known.size).toBe(0);
    expect(known.has("/r")).toBe(true);
  });

  it("ignores what was read before a clear, and paths outside its root", () => {
    const known = new KnownPaths("/r");
    const before = known.epoch;
    known.clear();
    known.add("/r/a", before);
    known.add("/other/a", known.epoch);
    known.add("/r", known.epoch);
    expect(known.size).toBe(0);
  });

  it("starts over when full", () => {
    const known = new KnownPaths("/", 3);
    for (const p of ["/a", "/b", "/c"]) known.add(p, known.epoch);
    expect(known.size).toBe(3);
    known.add("/d", known.epoch);
    expect([known.size, known.has("/d"), known.has("/a")]).toEqual([1, true, false]);
  });
});
