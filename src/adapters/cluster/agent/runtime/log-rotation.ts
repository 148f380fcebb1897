/**
 * Caps a task's stdout/stderr by copy-truncate: a file past the cap is copied to `<name>.1` (the
 * one old file kept) and truncated in place. The task keeps writing to the same descriptor; it
 * was opened O_APPEND, so its next write lands at the new end (0) instead of leaving a hole,
 * and an adopted task (whose descriptors the agent never had) is capped the same way. What the
 * task writes between the copy and the truncation is lost, as with logrotate's copytruncate.
 */
import { constants } from "node:fs";
import { lstat, open } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { SANDBOX_FILES } from "./sandbox.js";

const OUTPUTS = [SANDBOX_FILES.stdout, SANDBOX_FILES.stderr];
/** No symlink followed, no FIFO waited on: the sandbox belongs to the task, which may plant either. */
const FLAGS = constants.O_NOFOLLOW | constants.O_NONBLOCK;
const CHUNK = 1 << 20;

/** Rotates the sandbox's output files that are bigger than `maxBytes`; returns the ones rotated. */
export async function rotateOutputs(sandbox: string, maxBytes: number): Promise<string[]> {
  const rotated = await Promise.all(OUTPUTS.map((name) => rotateOne(join(sandbox, name), maxBytes).catch(() => false)));
  return OUTPUTS.filter((_, i) => rotated[i]);
}

async function rotateOne(path: string, maxBytes: number): Promise<boolean> {
  // The common case costs one lstat: a file within its cap is not opened.
  const size = (await lstat(path).catch(() => undefined))?.size ?? 0;
  if (size <= maxBytes) return false;
  const src = await open(path, constants.O_RDWR | FLAGS).catch(() => undefined);
  if (!src) return false;
  try {
    // Only a regular file with no other name: never truncate a file the task linked in.
    if (!isOwnFile(await src.stat(), maxBytes)) return false;
    const dst = await open(`${path}.1`, constants.O_WRONLY | constants.O_CREAT | FLAGS, 0o644);
    try {
      if (!isOwnFile(await dst.stat(), -1)) return false;
      await dst.truncate(0);
      await copy(src, dst);
    } finally {
      await dst.close();
    }
    await src.truncate(0);
    return true;
  } finally {
    await src.close();
  }
}

function isOwnFile(s: { isFile(): boolean; nlink: number; size: number }, biggerThan: number): boolean {
  return s.isFile() && s.nlink === 1 && s.size > biggerThan;
}

async function copy(src: FileHandle, dst: FileHandle): Promise<void> {
  const buf = Buffer.allocUnsafe(CHUNK);
  for (let at = 0; ; ) {
    const { bytesRead } = await src.read(buf, 0, CHUNK, at);
    if (bytesRead === 0) return;
    await dst.write(buf, 0, bytesRead, at);
    at += bytesRead;
  }
}
