/**
 * The local agent's secret store: one file per secret in a 0700 directory, each 0600, written
 * whole (tmp + rename). The scheduler's API writes it (`corral secret put`); the agent reads a
 * value only when it starts a task that references it.
 */
import { chmodSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { SchedulerError } from "../../domain/errors.js";
import { SECRET_LIMITS, secretNameProblems } from "../../domain/secret-name.js";
import type { SecretEntry, SecretStore } from "../../engine/ports.js";

const TMP = ".tmp-";

function fileName(name: string): string {
  return encodeURIComponent(name);
}

/** The value of secret `name` in `dir`, or undefined when there is none (or the name is not valid). */
export function readSecret(dir: string, name: string): Uint8Array | undefined {
  if (secretNameProblems(name).length > 0) return undefined;
  try {
    return readFileSync(join(dir, fileName(name)));
  } catch {
    return undefined;
  }
}

export class SecretFiles implements SecretStore {
  constructor(private readonly dir: string) {}

  private ensureDir(): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    chmodSync(this.dir, 0o700);
  }

  async put(name: string, value: Uint8Array): Promise<void> {
    const problems = secretNameProblems(name);
    if (value.byteLength > SECRET_LIMITS.maxValueBytes) {
      problems.push({ field: "value", reason: `must be at most ${SECRET_LIMITS.maxValueBytes} bytes, got ${value.byteLength}` });
    }
    if (problems.length > 0) throw SchedulerError.invalid(problems);
    this.ensureDir();
    const path = join(this.dir, fileName(name));
    // Short: the encoded name may be near the file-name limit already.
    const tmp = join(this.dir, `${TMP}${randomUUID()}`);
    writeFileSync(tmp, value, { mode: 0o600 });
    renameSync(tmp, path);
  }

  async list(): Promise<readonly SecretEntry[]> {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return [];
    }
    const entries: SecretEntry[] = [];
    for (const file of names) {
      if (file.startsWith(TMP)) continue;
      try {
        const st = statSync(join(this.dir, file));
        entries.push({ name: decodeURIComponent(file), sizeBytes: st.size, updatedMs: Math.floor(st.mtimeMs) });
      } catch {
        // deleted meanwhile
      }
    }
    return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async delete(name: string): Promise<boolean> {
    const problems = secretNameProblems(name);
    if (problems.length > 0) throw SchedulerError.invalid(problems);
    const path = join(this.dir, fileName(name));
    try {
      statSync(path);
    } catch {
      return false;
    }
    rmSync(path, { force: true });
    return true;
  }
}
