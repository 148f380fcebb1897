/** What the cluster behind the scheduler can do, for the per-driver notes of PutService (driver-notes.ts). */
export interface ClusterCapabilities {
  readonly kind: "local" | "mesos" | "sim";
  /** The local agent can enforce cgroup limits (root and a cgroup hierarchy). */
  readonly cgroups: boolean;
  /** The pre-reserved roles the scheduler subscribes under; absent = unknown (no note). */
  readonly preReservedRoles?: readonly string[];
  /** Whether the cluster offers GPUs (the local agent: false); absent = unknown (no note). */
  readonly gpus?: boolean;
  /** The port ranges the local agent may offer (inclusive); absent = unknown (no note). */
  readonly ports?: readonly { readonly begin: number; readonly end: number }[];
}
