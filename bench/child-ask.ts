/**
 * A benchmark's server child that answers JSON lines: `ask(op)` writes the op as a line to its
 * stdin and resolves with its next stdout line, parsed (`ask(undefined)` only waits for the next
 * line, e.g. the address it prints when ready). Used by watch-plans.ts and uninstall-watch.ts.
 */
import { spawn } from "node:child_process";
import type { ChildProcessByStdio } from "node:child_process";
import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";

export interface AskingChild {
  readonly child: ChildProcessByStdio<Writable, Readable, null>;
  ask<T>(op: object | undefined, timeoutMs?: number): Promise<T>;
}

export function spawnAsking(args: readonly string[]): AskingChild {
  const child = spawn(process.execPath, args, { stdio: ["pipe", "pipe", "inherit"] });
  const waiting: ((line: string) => void)[] = [];
  createInterface({ input: child.stdout }).on("line", (line) => waiting.shift()?.(line));
  const ask = <T>(op: object | undefined, timeoutMs = 300_000): Promise<T> =>
    new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error("server child did not answer")), timeoutMs);
      waiting.push((line) => {
        clearTimeout(t);
        resolve(JSON.parse(line) as T);
      });
      if (op !== undefined) child.stdin.write(`${JSON.stringify(op)}\n`);
    });
  return { child, ask };
}
