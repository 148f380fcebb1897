/**
 * No import cycle anywhere in src/, type-only imports included: many cycle checkers skip
 * `import type`, and the engine's first cycle was made of nothing else.
 */
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { describeCycle, findCycles, importGraph, readSources } from "./import-graph.js";

const root = fileURLToPath(new URL("../..", import.meta.url));

function cyclesOf(files: Record<string, string>): string[][] {
  return findCycles(importGraph(new Map(Object.entries(files)))).map((c) => c.map((e) => `${e.from} -> ${e.to}`));
}

describe("import cycles", () => {
  it("src/ has none, type-only imports included", () => {
    const files = readSources(root, "src");
    const graph = importGraph(files);
    // The scan sees the code base: a file that is imported, and edges at all.
    expect(files.size).toBeGreaterThan(100);
    expect(graph.get("src/engine/scheduler.ts")?.length).toBeGreaterThan(5);
    const cycles = findCycles(graph);
    const text = cycles.map((c, i) => `cycle ${i + 1}:\n${describeCycle(c)}`).join("\n");
    expect(text, `${cycles.length} import cycle(s) in src/`).toBe("");
  });

  it("finds a cycle made only of type-only imports", () => {
    const cycles = cyclesOf({
      "src/a.ts": `import type { B } from "./b.js";\nexport interface A { b: B }\n`,
      "src/b.ts": `import type { C } from "./sub/c.js";\nexport interface B { c: C }\n`,
      "src/sub/c.ts": `export type { A as C } from "../a.js";\n`,
    });
    expect(cycles).toEqual([["src/a.ts -> src/b.ts", "src/b.ts -> src/sub/c.ts", "src/sub/c.ts -> src/a.ts"]]);
  });

  it("counts inline type imports, import() types, dynamic imports and extensionless paths", () => {
    expect(cyclesOf({
      "src/a.ts": `import { type B } from "./b.js";\nexport const a = 1;\n`,
      "src/b.ts": `export type A = import("./a.js").A;\n`,
    })).toEqual([["src/a.ts -> src/b.ts", "src/b.ts -> src/a.ts"]]);
    expect(cyclesOf({
      "src/a.ts": `export async function f() { return import("./b"); }\n`,
      "src/b/index.ts": `export * from "../a.js";\n`,
    })).toEqual([["src/a.ts -> src/b/index.ts", "src/b/index.ts -> src/a.ts"]]);
  });

  it("names one cycle per tangle, and a file importing itself", () => {
    const cycles = cyclesOf({
      "src/a.ts": `import "./b.js";\n`,
      "src/b.ts": `import "./c.js";\nimport "./a.js";\n`,
      "src/c.ts": `import "./a.js";\n`,
      "src/self.ts": `import type { X } from "./self.js";\nexport type X = number;\n`,
    });
    expect(cycles).toEqual([["src/a.ts -> src/b.ts", "src/b.ts -> src/a.ts"], ["src/self.ts -> src/self.ts"]]);
  });

  it("passes a graph without cycles, and ignores packages and files outside the set", () => {
    expect(cyclesOf({
      "src/a.ts": `import type { B } from "./b.js";\nimport { x } from "typescript";\nimport "../../gen/x.js";\n`,
      "src/b.ts": `import type { C } from "./c.js";\n`,
      "src/c.ts": `export type C = number;\n`,
    })).toEqual([]);
  });

  it("names the import line of each edge", () => {
    const graph = importGraph(new Map([
      ["src/a.ts", `// header\nimport type { B } from "./b.js";\n`],
      ["src/b.ts", `import type { A } from "./a.js";`],
    ]));
    expect(describeCycle(findCycles(graph)[0]!)).toBe(
      `  src/a.ts -> src/b.ts   (import type { B } from "./b.js";)\n  src/b.ts -> src/a.ts   (import type { A } from "./a.js";)`,
    );
  });
});
