/**
 * The agent's JSON files, written atomically (a temp file renamed over the old one) so a crash
 * mid-write leaves the previous version, never half of one.
 */
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { reviveUnlimited } from "../../../domain/cluster.js";

export function writeJsonAtomic(path: string, value: unknown, mode = 0o600): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, JSON.stringify(value), { mode });
  renameSync(tmp, path);
}

/** The parsed file, or undefined when there is none. */
export function readJson<T>(path: string): T | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
  return JSON.parse(text, reviveUnlimited) as T;
}
