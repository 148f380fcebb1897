import { describe, expect, it } from "vitest";
import { decodeJson, encodeJson } from "./codec.js";

describe("stored JSON", () => {
  it("keeps an unlimited TaskInfo limit unlimited (JSON writes Infinity as null)", () => {
    const info = { limits: { cpus: 2, mem: Infinity }, command: { environment: { LIMIT: "Infinity", N: "x" } }, other: null };
    const back = decodeJson<typeof info>(encodeJson(info));
    expect(back.limits).toEqual({ cpus: 2, mem: Infinity });
    expect(back.command.environment.LIMIT).toBe("Infinity");
    expect(back.other).toBeNull();
  });
});
