/**
 * A task's secrets, resolved at launch from the agent's secret store (`readSecret`): its secret
 * environment variables and its secret files. Values go to the task's process and to the file
 * it asked for, nowhere else: never into a log line, a status message or task.json, so every
 * message here names the secret, never its value.
 */
import type { ContainerVolume, SecretRef, TaskInfo } from "../../../../domain/cluster.js";
import { readSecret } from "../../../secrets/secret-files.js";

export function missingSecret(name: string): string {
  return `secret '${name}' is not in the agent's secret store`;
}

function value(secretsDir: string | undefined, ref: SecretRef): Uint8Array | undefined {
  return secretsDir === undefined ? undefined : readSecret(secretsDir, ref.name);
}

/** The task's secret environment variables, or the first problem (a missing secret). */
export function secretEnvironment(info: TaskInfo, secretsDir: string | undefined): { readonly env: Record<string, string> } | { readonly error: string } {
  const env: Record<string, string> = {};
  for (const [name, ref] of Object.entries(info.command.secretEnvironment ?? {})) {
    const v = value(secretsDir, ref);
    if (v === undefined) return { error: missingSecret(ref.name) };
    const text = Buffer.from(v).toString("utf8");
    // spawn would refuse it, quoting the value in its error.
    if (text.includes("\0")) return { error: `secret '${ref.name}' holds a NUL byte and cannot be the value of environment variable ${name}` };
    env[name] = text;
  }
  return { env };
}

/** The environment of an adopted task's checks: a secret gone from the store meanwhile is left out. */
export function secretEnvironmentLenient(info: TaskInfo, secretsDir: string | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, ref] of Object.entries(info.command.secretEnvironment ?? {})) {
    const v = value(secretsDir, ref);
    if (v !== undefined && !v.includes(0)) env[name] = Buffer.from(v).toString("utf8");
  }
  return env;
}

export interface SecretFile {
  readonly containerPath: string;
  readonly value: Uint8Array;
}

/** The task's secret files (container volumes of source SECRET), or the first missing secret. */
export function secretFiles(volumes: readonly ContainerVolume[], secretsDir: string | undefined): { readonly files: SecretFile[] } | { readonly error: string } {
  const files: SecretFile[] = [];
  for (const v of volumes) {
    if (v.source.type !== "SECRET") continue;
    const data = value(secretsDir, v.source.secret);
    if (data === undefined) return { error: missingSecret(v.source.secret.name) };
    files.push({ containerPath: v.containerPath, value: data });
  }
  return { files };
}
