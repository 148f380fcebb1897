/**
 * CONTRACT STUB (issue 14) — replaced by the driver helper. The Mesos driver: the one
 * production ClusterDriver, against a Mesos master or the local agent (mesos-v1-api.md).
 */
import type { Filters, Operation } from "../../../domain/cluster.js";
import type { Clock, ClusterDriver, ClusterEvents, FrameworkInfo, Logger, Random, TaskFiles } from "../../../engine/ports.js";

/** Where the master is. */
export type MasterAddress =
  /** `http://host:5050` or `https://host:5050` (a path prefix is kept). */
  | { readonly kind: "http"; readonly url: URL }
  /** The local agent's Unix socket (`unix:/path/agent.sock`). */
  | { readonly kind: "unix"; readonly socketPath: string }
  /** `zk://host1:2181,host2:2181/mesos`: the leader is the `json.info_` member with the smallest sequence. */
  | { readonly kind: "zk"; readonly servers: string; readonly path: string };

/** Parses `--master`: http(s)://…, zk://…, unix:/path. Throws invalid_argument with the reason. */
export function parseMasterAddress(spec: string): MasterAddress {
  throw new Error(`not built yet: ${spec}`);
}

export interface MesosDriverOptions {
  readonly master: MasterAddress;
  /** FrameworkInfo.user: the Unix user tasks run as unless their spec names one. */
  readonly user: string;
  /** HTTP basic authentication as the framework's principal. */
  readonly credential?: { readonly principal: string; readonly secret: string };
  /** CA bundle (PEM) for an https master. */
  readonly caFile?: string;
  readonly clock: Clock;
  readonly random: Random;
  readonly log: Logger;
  /** Resubscription back-off with jitter. @default { initialMs: 200, maxMs: 15_000 } */
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
  /** Per-request timeout of non-subscribe calls. @default 75_000 */
  readonly requestTimeoutMs?: number;
  /** Serve `taskFiles` through the master's `/files` and operator API (the local agent is master and agent in one). */
  readonly files?: boolean;
}

/** What the driver has seen (benchmarks, diagnostics). */
export interface MesosDriverStats {
  readonly subscriptions: number;
  /** Milliseconds from the last lost subscription to the SUBSCRIBED that followed it. */
  readonly lastResubscribeMs?: number;
  readonly offersReceived: number;
  readonly callsSent: number;
}

export class MesosDriver implements ClusterDriver {
  readonly taskFiles?: TaskFiles;
  constructor(readonly options: MesosDriverOptions) {}
  get stats(): MesosDriverStats {
    return { subscriptions: 0, offersReceived: 0, callsSent: 0 };
  }
  subscribe(_framework: FrameworkInfo, _events: ClusterEvents): Promise<void> {
    throw new Error("not built yet");
  }
  accept(_offerIds: readonly string[], _operations: readonly Operation[], _filters?: Filters): Promise<void> {
    throw new Error("not built yet");
  }
  decline(_offerIds: readonly string[], _filters?: Filters): Promise<void> {
    throw new Error("not built yet");
  }
  kill(_taskId: string, _agentId?: string): Promise<void> {
    throw new Error("not built yet");
  }
  acknowledge(_agentId: string, _taskId: string, _uuid: string): Promise<void> {
    throw new Error("not built yet");
  }
  reconcile(_tasks: readonly { taskId: string; agentId?: string }[]): Promise<void> {
    throw new Error("not built yet");
  }
  revive(): Promise<void> {
    throw new Error("not built yet");
  }
  suppress(): Promise<void> {
    throw new Error("not built yet");
  }
  teardown(): Promise<void> {
    throw new Error("not built yet");
  }
  close(): Promise<void> {
    throw new Error("not built yet");
  }
}
