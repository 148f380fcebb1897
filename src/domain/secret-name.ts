/**
 * Secret names as specs write them (`hello-world/secret1`): path segments of letters, digits,
 * '.', '_' and '-', joined by '/'. Checked before a name becomes a file name or a Mesos
 * secret reference, so neither can escape its store.
 */
import type { FieldViolation } from "./errors.js";

export const SECRET_LIMITS = {
  maxNameChars: 255,
  /** Mesos caps a secret's value at 64 KiB (SecretResolver); so does the store. */
  maxValueBytes: 64 * 1024,
} as const;

const MAX_FILE_NAME = 255;
const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

export function secretNameProblems(name: string, field = "name"): FieldViolation[] {
  if (name.length === 0) return [{ field, reason: "is required" }];
  if (name.length > SECRET_LIMITS.maxNameChars) {
    return [{ field, reason: `must be at most ${SECRET_LIMITS.maxNameChars} characters, got ${name.length}` }];
  }
  const bad = name.split("/").find((s) => !SEGMENT.test(s));
  if (bad === undefined) {
    // The store's file name is the name with each '/' as '%2F'; file systems allow 255 bytes.
    const encoded = name.length + 2 * (name.split("/").length - 1);
    if (encoded <= MAX_FILE_NAME) return [];
    return [{ field, reason: `is too long: with each '/' counted as 3 characters it must be at most ${MAX_FILE_NAME}, got ${encoded}` }];
  }
  return [{ field, reason: "must be segments of letters, digits, '.', '_' and '-' (not starting with '.') joined by '/'" }];
}
