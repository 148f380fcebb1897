/**
 * Which secret store the API manages, by cluster: the local agent reads `<agent-dir>/secrets`
 * when it starts a task, so the API writes there; the simulated cluster gets a store in the data
 * directory (nothing reads it; it serves tests and trials); on Mesos the secrets live in the
 * cluster's own store and Corral only passes their names.
 */
import { join } from "node:path";
import { SecretFiles } from "../secrets/secret-files.js";
import type { SecretsAccess } from "../../engine/admin-api.js";

export const MESOS_SECRETS =
  "secrets on Mesos live in the cluster's secret store (DC/OS secrets); Corral passes references only";

export function secretsAccess(cluster: "local" | "mesos" | "sim", dirs: { readonly agentDir: string; readonly dataDir: string }): SecretsAccess {
  if (cluster === "mesos") return { unavailable: MESOS_SECRETS };
  return { store: new SecretFiles(join(cluster === "local" ? dirs.agentDir : dirs.dataDir, "secrets")) };
}
