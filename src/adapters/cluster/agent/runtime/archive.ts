/**
 * Archives fetched into a sandbox are unpacked there, as Mesos' fetcher does: tar (with any
 * compression GNU tar recognises), zip, and a single gzipped file. The tools run as the task's
 * user, so they can write nothing the task itself could not; GNU tar and Info-ZIP unzip strip a
 * leading `/` and skip members with `..` by default (the safe side of tar's -P), and nothing
 * here turns that off. They unpack into a staging directory first: the agent's own sandbox
 * files (stdout, task.json, exit, …) are dropped from it before its entries are moved in, so an
 * archive can neither hide a task's output nor plant an exit status a restarted agent would read.
 */
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { chownSync, closeSync, lstatSync, mkdirSync, openSync, readdirSync, renameSync, rmSync } from "node:fs";
import { basename, join } from "node:path";
import type { Account } from "./sandbox.js";
import { SANDBOX_FILES } from "./sandbox.js";

export type ArchiveKind = "tar" | "zip" | "gz";

/** What kind of archive a file name says it is; undefined: not one. */
export function archiveKind(name: string): ArchiveKind | undefined {
  const n = name.toLowerCase();
  if (/\.(tar|tar\.gz|tgz|tar\.bz2|tbz2|tar\.xz|txz)$/.test(n)) return "tar";
  if (n.endsWith(".zip")) return "zip";
  if (n.endsWith(".gz")) return "gz";
  return undefined;
}

/** The names at the top of a sandbox that are the agent's, never an archive's. */
export function isAgentFile(name: string): boolean {
  const kept: readonly string[] = [...Object.values(SANDBOX_FILES), "stdout.1", "stderr.1"];
  return kept.includes(name) || name.startsWith(".corral-");
}

/** Unpacks `archive` into `sandbox`; throws with the tool's complaint when it fails. */
export async function extract(archive: string, kind: ArchiveKind, sandbox: string, account: Account | undefined, signal: AbortSignal): Promise<void> {
  const staging = join(sandbox, `.corral-extract-${randomUUID()}`);
  mkdirSync(staging, { mode: 0o700 });
  try {
    if (account) chownSync(staging, account.uid, account.gid);
    if (kind === "tar") await run("tar", ["--no-same-owner", "-xf", archive, "-C", staging], staging, account, signal);
    else if (kind === "zip") await run("unzip", ["-q", "-o", archive, "-d", staging], staging, account, signal);
    else {
      const out = join(staging, basename(archive).replace(/\.gz$/i, ""));
      const fd = openSync(out, "wx", 0o644);
      try {
        if (account) chownSync(out, account.uid, account.gid);
        await run("gzip", ["-dc", "--", archive], staging, account, signal, fd);
      } finally {
        closeSync(fd);
      }
    }
    for (const name of readdirSync(staging)) if (isAgentFile(name)) rmSync(join(staging, name), { recursive: true, force: true });
    merge(staging, sandbox);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** Moves `from`'s entries into `to`, directories merged, anything else replaced; no symlink is followed. */
function merge(from: string, to: string): void {
  for (const name of readdirSync(from)) {
    const src = join(from, name);
    const dst = join(to, name);
    const there = lstatSync(dst, { throwIfNoEntry: false });
    if (there?.isDirectory() && lstatSync(src).isDirectory()) {
      merge(src, dst);
      continue;
    }
    if (there) rmSync(dst, { recursive: true, force: true });
    renameSync(src, dst);
  }
}

/** Runs an unpacking tool as the task's user; resolves when it exits 0. */
function run(cmd: string, args: readonly string[], cwd: string, account: Account | undefined, signal: AbortSignal, stdout?: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd,
      env: { PATH: "/usr/local/bin:/usr/bin:/bin" },
      stdio: ["ignore", stdout ?? "ignore", "pipe"],
      signal,
      ...(account ? { uid: account.uid, gid: account.gid } : {}),
    });
    let err = "";
    child.stderr?.setEncoding("utf8").on("data", (d: string) => {
      if (err.length < 4096) err += d;
    });
    child.once("error", (e) => reject(e));
    child.once("close", (code, sig) => {
      if (code === 0) resolve();
      else reject(new Error(`${cmd} failed (${sig ?? `status ${code}`})${err.trim() ? `: ${lastLine(err)}` : ""}`));
    });
  });
}

function lastLine(text: string): string {
  const lines = text.trim().split("\n");
  return lines[lines.length - 1]!.trim();
}
