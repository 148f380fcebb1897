/**
 * Runs the real `corral` bin (src/cli/corral, which runs the bundle dist/cli/corral.mjs) as a
 * child process and collects what it printed and its exit code. The bundle is rebuilt from the
 * current source once per test file (esbuild, well under a second), so the tests never run a
 * stale build.
 */
import { execFile, spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";

export const CORRAL_BIN = fileURLToPath(new URL("../../src/cli/corral", import.meta.url));
export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const BUNDLE_SCRIPT = fileURLToPath(new URL("../../src/cli/bundle.mjs", import.meta.url));

let bundled: Promise<unknown> | undefined;

/** Builds dist/cli/corral.mjs from the current source, once per test file (module instance). */
export function buildCli(): Promise<unknown> {
  bundled ??= promisify(execFile)(process.execPath, [BUNDLE_SCRIPT], { cwd: REPO_ROOT });
  return bundled;
}

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  /** CORRAL_SERVER for the child; omitted when undefined. */
  readonly server?: string;
  readonly stdin?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Run the bin file itself (shebang, executable bit) instead of `node <bin>`. */
  readonly direct?: boolean;
  /** Called with everything printed on stdout so far, each time more arrives. */
  readonly onStdout?: (stdout: string, child: ChildProcess) => void;
}

export async function runCli(args: readonly string[], options: RunOptions = {}): Promise<CliResult> {
  await buildCli();
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
  delete env["CORRAL_SERVER"];
  delete env["CORRAL_TOKEN_FILE"];
  if (options.server !== undefined) env["CORRAL_SERVER"] = options.server;
  Object.assign(env, options.env);
  const [cmd, argv] = options.direct ? [CORRAL_BIN, [...args]] : [process.execPath, [CORRAL_BIN, ...args]];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { cwd: REPO_ROOT, env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => {
      stdout += s;
      options.onStdout?.(stdout, child);
    });
    child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.stdin ?? "");
  });
}

/** For assertion messages: everything the child printed. */
export const shown = (r: CliResult): string => `exit ${r.code}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;
