/**
 * Garbage collection of ended tasks' sandboxes, as a Mesos agent's gc of executor directories:
 * a sandbox goes once its task ended more than `maxAgeMs` ago, and, oldest first, while the
 * ended sandboxes take more than `maxBytes`. A sandbox is ended when no task is watched or
 * queued for it and its process group is gone; a live task's sandbox is never touched, and
 * volumes (symlinks in the sandbox to directories outside it) are neither followed nor counted.
 * An ended sandbox does not change, so it is measured once.
 */
import { readdirSync, rmSync } from "node:fs";
import { lstat, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Clock, Logger } from "../../../../engine/ports.js";
import { sanitizeServiceName } from "../../../../domain/names.js";
import { groupAlive, groupLeaderIn, isSameProcess } from "./proc.js";
import { SANDBOX_FILES, sandboxesDir } from "./sandbox.js";
import { readRecord } from "./wrapper.js";

export interface SandboxGcOptions {
  readonly root: string;
  readonly clock: Clock;
  readonly log: Logger;
  readonly maxAgeMs: number;
  readonly maxBytes: number;
  /** A task the runtime watches or will start: its sandbox is not garbage. */
  readonly isLive: (taskId: string) => boolean;
}

interface Ended {
  readonly endedMs: number;
  readonly bytes: number;
}

export class SandboxGc {
  private readonly ended = new Map<string, Ended>();

  constructor(private readonly o: SandboxGcOptions) {}

  /** One pass; returns the task IDs whose sandboxes it removed. */
  async sweep(): Promise<string[]> {
    const root = sandboxesDir(this.o.root);
    const ids = await readdir(root).catch(() => [] as string[]);
    const present = new Set(ids);
    for (const id of this.ended.keys()) if (!present.has(id)) this.ended.delete(id);
    const candidates: { id: string; e: Ended }[] = [];
    for (const id of ids) {
      if (this.o.isLive(id)) continue;
      const e = this.ended.get(id) ?? (await measure(join(root, id)));
      if (!e) continue;
      this.ended.set(id, e);
      candidates.push({ id, e });
    }
    candidates.sort((a, b) => a.e.endedMs - b.e.endedMs);
    let total = candidates.reduce((sum, c) => sum + c.e.bytes, 0);
    const now = this.o.clock.now();
    const removed: string[] = [];
    for (const { id, e } of candidates) {
      if (now - e.endedMs <= this.o.maxAgeMs && total <= this.o.maxBytes) break;
      if (this.o.isLive(id)) continue; // started again while this pass ran
      try {
        await rm(join(root, id), { recursive: true, force: true });
        removed.push(id);
        total -= e.bytes;
        this.ended.delete(id);
      } catch (err) {
        this.o.log.warn({ err, taskId: id }, "could not remove an ended task's sandbox");
      }
    }
    return removed;
  }

  /** The sandbox went another way (discard, a released reservation). */
  forget(taskId: string): void {
    this.ended.delete(taskId);
  }
}

/** When the sandbox's task ended and how big the sandbox is; undefined while its processes run. */
async function measure(dir: string): Promise<Ended | undefined> {
  const record = readRecord(dir);
  if (record && groupAlive(record)) return undefined;
  const [exit, ...others] = await Promise.all(
    [SANDBOX_FILES.exit, SANDBOX_FILES.stdout, SANDBOX_FILES.stderr, SANDBOX_FILES.record, ""].map((f) => lstat(join(dir, f)).catch(() => undefined)),
  );
  // The wrapper's exit file is when the command ended; without one, the last trace it left.
  const endedMs = exit?.mtimeMs ?? Math.max(0, ...others.map((s) => s?.mtimeMs ?? 0));
  return { endedMs, bytes: await sizeOf(dir) };
}

/** Bytes below `dir`, symlinks not followed. */
async function sizeOf(dir: string): Promise<number> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  let bytes = 0;
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) bytes += await sizeOf(path);
    else if (e.isFile()) bytes += (await lstat(path).catch(() => undefined))?.size ?? 0;
  }
  return bytes;
}

/**
 * A service's reservations were released: the ended sandboxes of tasks that ran on them go, so
 * nothing of a removed service stays on the machine. Returns the task IDs removed.
 */
export function collectNamespaceSandboxes(root: string, namespaces: ReadonlySet<string>, isLive: (taskId: string) => boolean): string[] {
  if (namespaces.size === 0) return [];
  let ids: string[];
  try {
    ids = readdirSync(sandboxesDir(root));
  } catch {
    return [];
  }
  const removed: string[] = [];
  // A sandbox without its record (the task never started, or the agent died before recording
  // it) is known by the service name its task ID starts with.
  const prefixes = [...namespaces].map((ns) => `${sanitizeServiceName(ns)}__`);
  for (const id of ids) {
    if (isLive(id)) continue;
    const dir = join(sandboxesDir(root), id);
    const record = readRecord(dir);
    if (!record && prefixes.some((p) => id.startsWith(p)) && groupLeaderIn(dir) === undefined) {
      rmSync(dir, { recursive: true, force: true });
      removed.push(id);
      continue;
    }
    // Its wrapper gone, the task has ended (what it left behind was killed then; zombies may
    // linger until init reaps them, which must not keep a removed service's files).
    if (!record?.namespaces.some((ns) => namespaces.has(ns)) || isSameProcess(record.pid, record.procStart, record.bootId)) continue;
    rmSync(dir, { recursive: true, force: true });
    removed.push(id);
  }
  return removed;
}
