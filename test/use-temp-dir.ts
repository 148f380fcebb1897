/**
 * Temp directories for a test file that are removed after it: `tempDir("kind")` makes
 * `<tmpdir>/corral-<kind>-<tag>-XXXXXX` (temp-dir.ts), and an afterAll hook of the importing
 * test file removes every directory it made, first calling each one's `beforeRemove` (the local
 * cluster's harness kills the task processes that write into the directory there).
 *
 * The hook is registered when this module is imported, at the top level of the test file's
 * collection, so it is the file's first afterAll and (vitest's default "stack" hook order) runs
 * after the file's own afterEach/afterAll hooks have stopped its schedulers. Vitest isolates
 * test files (a fresh module graph each), so each file gets its own list and hook.
 */
import { rmSync } from "node:fs";
import { afterAll } from "vitest";
import { killProcessesIn } from "./processes.js";
import { makeTempDir } from "./temp-dir.js";

interface Made {
  readonly dir: string;
  readonly beforeRemove: ((dir: string) => Promise<void> | void) | undefined;
}

const made: Made[] = [];

/** Removes every directory made so far (awaiting each one's beforeRemove first); the afterAll hook calls it. */
export async function removeTempDirs(): Promise<void> {
  const errors: unknown[] = [];
  for (const m of made.splice(0).reverse()) {
    try {
      await m.beforeRemove?.(m.dir);
      // A local agent a scheduler started in the directory, and its tasks: tests stop what they start.
      await killProcessesIn(m.dir);
    } catch (err) {
      errors.push(err);
    }
    try {
      rmSync(m.dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    } catch (err) {
      errors.push(err);
    }
  }
  if (errors.length > 0) throw new AggregateError(errors, `removing the test's temp directories: ${errors.map(String).join("; ")}`);
}

afterAll(removeTempDirs, 60_000);

/**
 * A new empty directory `<tmpdir>/corral-<kind>-<tag>-XXXXXX`, removed after the test file.
 * `beforeRemove` runs first (kill what writes into it).
 */
export function tempDir(kind: string, options: { beforeRemove?: (dir: string) => Promise<void> | void } = {}): string {
  const dir = makeTempDir(kind);
  made.push({ dir, beforeRemove: options.beforeRemove });
  return dir;
}
