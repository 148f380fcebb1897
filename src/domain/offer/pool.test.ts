import { describe, expect, it } from "vitest";
import { OfferPool } from "./pool.js";
import { STATIC, portRange, scalar, testOffer } from "./test-kit.js";

describe("OfferPool", () => {
  const offer = testOffer([scalar("cpus", 2), portRange(31000, 31002), scalar("cpus", 1, STATIC("R")), portRange(80, 81, STATIC("R"))]);

  it("keeps unreserved and each role's static resources apart", () => {
    const pool = OfferPool.of(offer);
    expect(pool.available("cpus")).toBe(2);
    expect(pool.available("cpus", { kind: "static", role: "R" })).toBe(1);
    expect(pool.available("cpus", { kind: "static", role: "other" })).toBe(0);
    expect(pool.offersStatic("R")).toBe(true);
    expect(pool.offersStatic("other")).toBe(false);
    expect(pool.takeScalar("cpus", 1.5, { kind: "static", role: "R" })).toBe(false);
    expect(pool.takeScalar("cpus", 1, { kind: "static", role: "R" })).toBe(true);
    expect(pool.available("cpus")).toBe(2);
    expect(pool.takePort(0)).toBe(31000);
    expect(pool.takePort(0, undefined, { kind: "static", role: "R" })).toBe(80);
    expect(pool.takePort(31000)).toBeUndefined();
  });

  it("takes the lowest free dynamic port within the ranges asked, and a fixed port regardless of them", () => {
    const pool = OfferPool.of(offer);
    expect(pool.takePort(0, [{ begin: 31001, end: 40000 }])).toBe(31001);
    expect(pool.takePort(0, [{ begin: 31001, end: 40000 }])).toBe(31002);
    expect(pool.takePort(0, [{ begin: 31001, end: 40000 }])).toBeUndefined();
    expect(pool.takePort(31000, [{ begin: 5000, end: 6000 }])).toBe(31000);
    // A clone keeps what was taken; the original pool is not changed by the clone's takes.
    const clone = pool.clone();
    expect(clone.takePort(0)).toBeUndefined();
    expect(OfferPool.of(offer).takePort(0)).toBe(31000);
  });
});
