/**
 * A task's container volumes (ContainerInfo.volumes) in its sandbox, as the local agent can
 * have them without a container: a HOST_PATH volume and a pod-level volume (SANDBOX_PATH
 * PARENT: the executor's persistent volume) are symlinks at the container path, and a SECRET
 * volume is a file holding the secret's value (0400, the task's user's).
 *
 * A symlink cannot make a volume read-only: mode RO is not enforced here (a read-only bind
 * mount would be, but it needs a mount namespace or a reliable unmount on every task end; the
 * scheduler's spec notes say so for the local agent).
 */
import { chownSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { ContainerVolume, ExecutorInfo, TaskInfo } from "../../../../domain/cluster.js";
import { assertNoLinkOnTheWay, inSandbox, linkAt, linkVolume, volumeDir } from "./sandbox.js";
import type { Account } from "./sandbox.js";
import type { SecretFile } from "./task-secrets.js";

/** The task's container volumes; the pod's volumes are the executor's. */
export function containerVolumes(info: TaskInfo): readonly ContainerVolume[] {
  return info.container?.volumes ?? [];
}

/**
 * Links the task's host and pod volumes into its sandbox and writes its secret files. Throws
 * (a message without any secret value) when one cannot be set up.
 */
export function setUpContainerVolumes(
  root: string,
  info: TaskInfo,
  executor: ExecutorInfo | undefined,
  sandbox: string,
  account: Account | undefined,
  secrets: readonly SecretFile[],
): void {
  for (const v of containerVolumes(info)) {
    const at = inSandbox(v.containerPath);
    const source = v.source;
    switch (source.type) {
      case "HOST_PATH":
        linkAt(sandbox, source.hostPath.path, at);
        break;
      case "SANDBOX_PATH":
        if (source.sandboxPath.type === "PARENT") {
          linkVolume(sandbox, podVolumeDir(root, info, executor, source.sandboxPath.path), at, account);
        } else {
          // SELF: another path of the task's own sandbox.
          const target = join(sandbox, inSandbox(source.sandboxPath.path));
          mkdirSync(target, { recursive: true });
          if (account) chownSync(target, account.uid, account.gid);
          linkAt(sandbox, target, at);
        }
        break;
      case "SECRET":
        break; // below, with its value
    }
  }
  for (const f of secrets) writeSecretFile(sandbox, inSandbox(f.containerPath), f.value, account);
}

/** The directory of the executor's persistent volume mounted at `path` (a pod-level volume). */
function podVolumeDir(root: string, info: TaskInfo, executor: ExecutorInfo | undefined, path: string): string {
  const want = inSandbox(path);
  for (const r of executor?.resources ?? []) {
    const id = r.disk?.persistence?.id;
    const at = r.disk?.volume?.containerPath;
    if (id && at !== undefined && inSandbox(at) === want) return volumeDir(root, info.agentId, id);
  }
  throw new Error(`pod volume '${path}' is not a persistent volume of the task's executor`);
}

/** The secret's value in a file only the task's user may read, written whole (tmp + rename). */
function writeSecretFile(sandbox: string, at: string, value: Uint8Array, account: Account | undefined): void {
  if (at === "") throw new Error("a secret file cannot take the place of the sandbox itself");
  const path = join(sandbox, at);
  assertNoLinkOnTheWay(sandbox, at);
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.corral-tmp`;
  rmSync(tmp, { force: true });
  writeFileSync(tmp, value, { mode: 0o400, flag: "wx" });
  if (account) chownSync(tmp, account.uid, account.gid);
  renameSync(tmp, path);
}
