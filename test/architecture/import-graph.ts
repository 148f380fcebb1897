/**
 * The graph of relative imports between source files, and the cycles in it. Every module
 * reference counts: `import`, `import type`, `export … from`, `export type … from`, and
 * `import("…")` (a dynamic import or an import type), because a type-only cycle is still a
 * cycle in the design even though the compiled JavaScript does not carry it. The scan is
 * `ts.preProcessFile`, which reads only the imports of a file, not its whole syntax tree.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import ts from "typescript";

/** An import of one file by another: the specifier as written and the line that holds it. */
export interface ImportEdge {
  readonly from: string;
  readonly to: string;
  readonly specifier: string;
  readonly line: string;
}

/** File → its relative imports that resolve to files of the set, in source order. */
export type ImportGraph = ReadonlyMap<string, readonly ImportEdge[]>;

const SOURCE = /\.(ts|mts|cts|tsx)$/;

/** Every TypeScript source file under `dir`, with paths relative to `root` (forward slashes). */
export function readSources(root: string, dir: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const entry of readdirSync(path.join(root, dir), { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !SOURCE.test(entry.name) || entry.name.endsWith(".d.ts")) continue;
    const file = path.relative(root, path.join(entry.parentPath, entry.name)).split(path.sep).join("/");
    files.set(file, readFileSync(path.join(root, file), "utf8"));
  }
  return files;
}

/** The file of the set a relative specifier names: `./x.js` → `x.ts`, `./x` → `x.ts` or `x/index.ts`. */
function resolve(from: string, specifier: string, files: ReadonlyMap<string, string>): string | undefined {
  const base = path.posix.join(path.posix.dirname(from), specifier);
  const stem = base.replace(/\.(m|c)?jsx?$/, "");
  const candidates = [base, `${stem}.ts`, `${stem}.tsx`, `${stem}.mts`, `${stem}.cts`, `${base}/index.ts`];
  return candidates.find((c) => files.has(c));
}

/** The relative imports of each file that resolve to a file of the set (others, like gen/ or packages, are left out). */
export function importGraph(files: ReadonlyMap<string, string>): ImportGraph {
  const graph = new Map<string, ImportEdge[]>();
  for (const [file, source] of files) {
    const edges: ImportEdge[] = [];
    const info = ts.preProcessFile(source, true, true);
    for (const ref of info.importedFiles) {
      if (!ref.fileName.startsWith(".")) continue;
      const to = resolve(file, ref.fileName, files);
      if (to === undefined) continue;
      const lineStart = source.lastIndexOf("\n", ref.pos) + 1;
      const lineEnd = source.indexOf("\n", ref.pos);
      const line = source.slice(lineStart, lineEnd === -1 ? undefined : lineEnd).trim();
      edges.push({ from: file, to, specifier: ref.fileName, line });
    }
    graph.set(file, edges);
  }
  return graph;
}

/**
 * One cycle per strongly connected component that has one (Tarjan), each as the edges of a
 * shortest path from the component's first file (sorted) back to itself.
 */
export function findCycles(graph: ImportGraph): ImportEdge[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const { to } of graph.get(v) ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(v, Math.min(low.get(v)!, low.get(to)!));
      } else if (onStack.has(to)) {
        low.set(v, Math.min(low.get(v)!, index.get(to)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      components.push(component);
    }
  };
  for (const file of [...graph.keys()].sort()) if (!index.has(file)) visit(file);

  const cycles: ImportEdge[][] = [];
  for (const component of components) {
    const members = new Set(component);
    const start = [...component].sort()[0]!;
    const selfLoop = (graph.get(start) ?? []).find((e) => e.to === start);
    if (component.length === 1 && !selfLoop) continue;
    if (selfLoop) {
      cycles.push([selfLoop]);
      continue;
    }
    // Breadth-first from start, inside the component, until an edge leads back to start.
    const via = new Map<string, ImportEdge>();
    const queue = [start];
    let closing: ImportEdge | undefined;
    while (queue.length > 0 && closing === undefined) {
      const v = queue.shift()!;
      for (const e of graph.get(v) ?? []) {
        if (e.to === start) {
          closing = e;
          break;
        }
        if (members.has(e.to) && !via.has(e.to)) {
          via.set(e.to, e);
          queue.push(e.to);
        }
      }
    }
    const cycle: ImportEdge[] = [closing!];
    for (let at = closing!.from; at !== start; at = via.get(at)!.from) cycle.unshift(via.get(at)!);
    cycles.push(cycle);
  }
  return cycles.sort((a, b) => a[0]!.from.localeCompare(b[0]!.from));
}

/** A cycle as text: one `a.ts -> b.ts   (the import line)` per edge. */
export function describeCycle(cycle: readonly ImportEdge[]): string {
  return cycle.map((e) => `  ${e.from} -> ${e.to}   (${e.line})`).join("\n");
}
