/**
 * Reads the spec files of static mode (`--services DIR|FILE…`) and mono mode (`--service FILE`)
 * at start, into what the engine puts (StaticServiceFile). Every problem — a path that is not
 * there or cannot be read, a directory without specs — stops the start with one line naming it,
 * before the port or the store is touched.
 */
import { readFileSync, readdirSync, realpathSync, statSync } from "node:fs";
import { basename, extname, join } from "node:path";
import { SchedulerError } from "./domain/errors.js";
import type { ServiceMode } from "./engine/admin-api.js";
import type { StaticServiceFile } from "./engine/scheduler-parts.js";

/** What a directory contributes: its spec files, by these extensions. */
const SPEC_EXTENSIONS = [".yml", ".yaml"];

export interface StaticFilesInput {
  readonly mode: ServiceMode;
  /** static: files and directories; mono: the one file. */
  readonly servicePaths: readonly string[];
  readonly parameters: Readonly<Record<string, string>>;
}

/**
 * The spec files in the order given, a directory's `*.yml` / `*.yaml` sorted by name (not
 * recursive; hidden files left out). Dynamic mode has none.
 * @throws SchedulerError failed_precondition naming the path and what is wrong
 */
export function loadStaticFiles(input: StaticFilesInput): StaticServiceFile[] {
  if (input.mode === "dynamic") return [];
  const files = distinct(input.servicePaths.flatMap((path) => specFilesAt(path, input.mode)));
  return files.map((file) => ({ file, base: baseName(file), spec: readSpec(file), parameters: { ...input.parameters } }));
}

/** Each file once, at its first mention: a file given twice, or by name and in its directory, is one service. */
function distinct(files: readonly string[]): string[] {
  const seen = new Set<string>();
  return files.filter((file) => {
    const real = realPath(file);
    if (seen.has(real)) return false;
    seen.add(real);
    return true;
  });
}

/** The file's real path; as given when it has none (a dangling link: reading it says why). */
function realPath(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    return file;
  }
}

/** `hello-world.yml` → `hello-world`; another extension stays (a file given by name may have any). */
export function baseName(file: string): string {
  const name = basename(file);
  const ext = extname(name);
  return SPEC_EXTENSIONS.includes(ext) ? name.slice(0, -ext.length) : name;
}

function specFilesAt(path: string, mode: ServiceMode): string[] {
  const flag = mode === "mono" ? "--service" : "--services";
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch (err) {
    throw unreadable(flag, path, err);
  }
  if (!isDir) return [path];
  if (mode === "mono") throw new SchedulerError("failed_precondition", `--service ${path} is a directory; mono mode takes one spec file`);
  let names: string[];
  try {
    names = readdirSync(path);
  } catch (err) {
    throw unreadable(flag, path, err);
  }
  // Plain code-unit order: the same on every machine and locale.
  const specs = names.filter((n) => !n.startsWith(".") && SPEC_EXTENSIONS.includes(extname(n))).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (specs.length === 0) throw new SchedulerError("failed_precondition", `--services ${path}: the directory holds no spec file (*.yml or *.yaml)`);
  return specs.map((n) => join(path, n));
}

function readSpec(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    throw unreadable("spec file", file, err);
  }
}

const REASONS: Readonly<Record<string, string>> = {
  ENOENT: "no such file or directory",
  EACCES: "permission denied",
  EISDIR: "is a directory",
  ENOTDIR: "a part of the path is not a directory",
};

function unreadable(what: string, path: string, err: unknown): SchedulerError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const reason = (code !== undefined ? REASONS[code] : undefined) ?? (err instanceof Error ? err.message : String(err));
  return new SchedulerError("failed_precondition", `${what} ${path}: cannot read it: ${reason}`, { cause: err });
}
