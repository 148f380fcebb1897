/**
 * The scheduler as its own process for the kill -9 run: `node --import tsx src/main.ts` on a
 * data directory (local cluster, SQLite: the defaults), its log kept in a file per start, and
 * its address read from the "corral is serving" line.
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { createWriteStream } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";

export const ROOT = new URL("../..", import.meta.url).pathname;

export interface Started {
  readonly child: ChildProcess;
  /** performance.now() at spawn. */
  readonly spawnedAt: number;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The address once serving; rejects if the process exits first. */
  readonly serving: Promise<string>;
  readonly logFile: string;
}

export function spawnScheduler(dataDir: string, logDir: string, seq: number, env: Record<string, string> = {}): Started {
  const logFile = join(logDir, `scheduler-${String(seq).padStart(4, "0")}.log`);
  const spawnedAt = performance.now();
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("CORRAL_")));
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts", "--listen", "127.0.0.1:0", "--data-dir", dataDir], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...clean, ...env },
  });
  const out = createWriteStream(logFile);
  child.stderr!.pipe(out, { end: false });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  const serving = new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on("line", (line) => {
      out.write(line + "\n");
      if (!line.includes("corral is serving")) return;
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        if (typeof entry["address"] === "string") resolve(entry["address"]);
      } catch {
        // not a log line
      }
    });
    lines.on("close", () => out.end());
    void exited.then(({ code, signal }) => reject(new Error(`scheduler exited (${signal ?? code}) before serving`)));
  });
  serving.catch(() => undefined);
  return { child, spawnedAt, exited, serving, logFile };
}

/** kill -9, and wait until the process is gone. */
export async function kill9(s: Started): Promise<void> {
  if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill("SIGKILL");
  await s.exited;
}
