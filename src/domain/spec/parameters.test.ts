import { describe, expect, it } from "vitest";
import { validateParameters } from "./parameters.js";

describe("validateParameters", () => {
  it.each([
    { name: "ordinary names and values", parameters: { A: "1", "my-param.x": "a b", SERVICE_NAME: "svc" } },
    { name: "tab, newline, CR and other controls in a value (PEM data, commands)", parameters: { CERT: "-----BEGIN-----\nAAA\r\n\tB\u0001\u007f\u0085" } },
    { name: "no parameters", parameters: {} },
  ])("accepts $name", ({ parameters }) => {
    expect(validateParameters(parameters)).toEqual([]);
  });

  it.each([
    { name: "NUL as a name", parameters: { "\u0000": "x" }, want: [{ field: "parameters.\u0000", reason: "name must not contain control character U+0000" }] },
    { name: "an empty name", parameters: { "": "x" }, want: [{ field: "parameters.", reason: "name must not be empty" }] },
    { name: "tab in a name", parameters: { "A\tB": "x" }, want: [{ field: "parameters.A\tB", reason: "name must not contain control character U+0009" }] },
    { name: "newline in a name", parameters: { "A\n": "x" }, want: [{ field: "parameters.A\n", reason: "name must not contain control character U+000A" }] },
    { name: "DEL in a name", parameters: { "A\u007f": "x" }, want: [{ field: "parameters.A\u007f", reason: "name must not contain control character U+007F" }] },
    { name: "C1 in a name", parameters: { "\u0085A": "x" }, want: [{ field: "parameters.\u0085A", reason: "name must not contain control character U+0085" }] },
    { name: "NUL in a value", parameters: { OK: "1", M: "2\u00005" }, want: [{ field: "parameters.M", reason: "value must not contain NUL (U+0000)" }] },
    {
      name: "a long name, abbreviated, with NUL in its value",
      parameters: { ["k\u0001".repeat(50_000)]: "\u0000" },
      want: [
        { field: `parameters.${"k\u0001".repeat(32)}…(100000 chars)`, reason: "name must not contain control character U+0001" },
        { field: `parameters.${"k\u0001".repeat(32)}…(100000 chars)`, reason: "value must not contain NUL (U+0000)" },
      ],
    },
  ])("refuses $name", ({ parameters, want }) => {
    expect(validateParameters(parameters)).toEqual(want);
  });

  it("refuses a TASKCFG_ parameter that cannot become an environment variable", () => {
    expect(validateParameters({ TASKCFG_ALL_LOG: "x", TASKCFG_HELLO_WORLD_A1: "y" })).toEqual([]);
    for (const key of ["TASKCFG_ALL_A=B", "TASKCFG_ALL_", "TASKCFG_ALL_A-B", "TASKCFG_"]) {
      expect(validateParameters({ [key]: "v" })).toHaveLength(1);
    }
  });
});
