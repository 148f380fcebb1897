/**
 * Where an agent task lives on disk: its sandbox (working directory, stdout/stderr, task.json,
 * exit status) and its persistent volumes, which are directories outside any sandbox so they
 * survive relaunches and go only with DESTROY. A volume appears in the sandbox as a symlink at
 * its container path, the way Mesos mounts it there. (Adapted from the local cluster's.)
 */
import { chownSync, existsSync, lstatSync, mkdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import type { TaskInfo } from "../../../../domain/cluster.js";

/** The files of a sandbox. */
export const SANDBOX_FILES = {
  stdout: "stdout",
  stderr: "stderr",
  /** The wrapper's identity, written by the agent right after spawn: the task was started. */
  record: "task.json",
  /** The command's exit status, written by the wrapper (tmp + rename) when it ends. */
  exit: "exit",
  /** Written when the scheduler asks for a kill, so an agent that adopts the task knows. */
  killRequested: "kill-requested",
} as const;

export function sandboxesDir(root: string): string {
  return join(root, "sandboxes");
}

export function sandboxDir(root: string, taskId: string): string {
  return join(root, "sandboxes", taskId);
}

export function volumeDir(root: string, agentId: string, persistenceId: string): string {
  return join(root, "volumes", agentId, persistenceId);
}

/** The task's volumes: their directories and where they show in the sandbox. */
export function taskVolumes(root: string, info: TaskInfo): { readonly dir: string; readonly containerPath: string }[] {
  return info.resources.flatMap((r) => {
    const id = r.disk?.persistence?.id;
    const path = r.disk?.volume?.containerPath;
    if (!id || !path) return [];
    return [{ dir: volumeDir(root, info.agentId, id), containerPath: inSandbox(path) }];
  });
}

/**
 * A container path as a path inside the sandbox: relative, with no way out of it. An absolute
 * path (Mesos: in the container's image) lands in the sandbox too; there is no image here.
 */
export function inSandbox(containerPath: string): string {
  return normalize(containerPath).replace(/^(\.\.(\/|$))+|^\/+/, "").replace(/\/+$/, "");
}

export interface Account {
  readonly uid: number;
  readonly gid: number;
}

/** A user from /etc/passwd, or undefined when there is none by that name. */
export function lookupUser(name: string, passwd = "/etc/passwd"): Account | undefined {
  for (const line of readFileSync(passwd, "utf8").split("\n")) {
    const [user, , uid, gid] = line.split(":");
    if (user === name && uid !== undefined && gid !== undefined) return { uid: Number(uid), gid: Number(gid) };
  }
  return undefined;
}

/**
 * Creates the sandbox and the volume directories and links them in; owned by `account` when
 * the task runs as another user. Returns the sandbox path. A task without volumes costs one
 * mkdir: this runs once per launch.
 */
export function prepareSandbox(root: string, info: TaskInfo, account: Account | undefined): string {
  const sandbox = sandboxDir(root, info.taskId);
  mkdirSync(sandbox, { recursive: true });
  const own = (path: string): void => {
    if (account) chownSync(path, account.uid, account.gid);
  };
  own(sandbox);
  for (const v of taskVolumes(root, info)) linkVolume(sandbox, v.dir, v.containerPath, account);
  return sandbox;
}

/** Links a volume directory (created when missing, owned by `account`) at `containerPath` in the sandbox. */
export function linkVolume(sandbox: string, dir: string, containerPath: string, account: Account | undefined): void {
  if (!existsSync(dir)) {
    mkdirSync(dir, { recursive: true });
    if (account) chownSync(dir, account.uid, account.gid);
  }
  linkAt(sandbox, dir, containerPath);
}

/**
 * Throws unless every existing directory on the way from the sandbox to `rel` (the last part
 * excluded) is a real directory. The agent writes there as root: a symlink the task or one of
 * its archives put in the sandbox (`d -> /etc`) must not carry a write out of it.
 */
export function assertNoLinkOnTheWay(sandbox: string, rel: string): void {
  const parts = rel.split("/").filter((p) => p !== "" && p !== ".");
  let at = sandbox;
  for (const part of parts.slice(0, -1)) {
    at = join(at, part);
    const st = lstatSync(at, { throwIfNoEntry: false });
    if (st === undefined) return; // created below, as a real directory
    if (!st.isDirectory()) throw new Error(`'${rel}': '${at.slice(sandbox.length + 1)}' in the sandbox is not a directory (a symbolic link is not followed)`);
  }
}

/** A symlink to `target` at `containerPath` in the sandbox, unless something is there already. */
export function linkAt(sandbox: string, target: string, containerPath: string): void {
  if (containerPath === "" || containerPath === ".") throw new Error(`a volume cannot take the place of the sandbox itself`);
  const link = join(sandbox, containerPath);
  assertNoLinkOnTheWay(sandbox, containerPath);
  mkdirSync(dirname(link), { recursive: true });
  // lstat: a link to a host path that does not exist (yet) is there all the same.
  if (lstatSync(link, { throwIfNoEntry: false }) === undefined) symlinkSync(target, link);
}

/** DESTROY: the volume's data is gone. */
export function destroyVolume(root: string, agentId: string, persistenceId: string): void {
  rmSync(volumeDir(root, agentId, persistenceId), { recursive: true, force: true });
}

/** The environment a task sees: the TaskInfo's (spec env, ports, TASK_NAME, …) plus the sandbox. */
export function taskEnvironment(info: TaskInfo, sandbox: string, frameworkId: string, path: string): Record<string, string> {
  return {
    PATH: path,
    HOME: sandbox,
    ...info.command.environment,
    MESOS_SANDBOX: sandbox,
    MESOS_TASK_ID: info.taskId,
    MESOS_AGENT_ID: info.agentId,
    MESOS_FRAMEWORK_ID: frameworkId,
  };
}
