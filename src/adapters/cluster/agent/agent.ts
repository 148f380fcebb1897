/**
 * CONTRACT STUB (issue 14) — replaced by the agent helper. The local agent: master and agent in
 * one, serving the Mesos v1 scheduler API on a Unix socket (mode 0600), running every task itself.
 */
import type { Clock, Logger, Random } from "../../../engine/ports.js";
import type { Machine } from "../local/local-agents.js";

export interface LocalAgentOptions {
  /** Everything the agent keeps: its state file, sandboxes, volumes, socket. */
  readonly stateDir: string;
  /** Agents this machine is split into (`--local-agents`), each with its own hostname and attributes. */
  readonly agents: number;
  /** @default thisMachine() */
  readonly machine?: Machine;
  /** PATH given to tasks. */
  readonly taskPath: string;
  /** The agent runs as root, so a task may run as the user its spec names. */
  readonly canSwitchUser: boolean;
  /** @default 15 */
  readonly heartbeatIntervalS?: number;
  /** @default `<stateDir>/agent.sock` */
  readonly socketPath?: string;
  /** An extra TCP listener (tests: 307 Location needs host:port). Port 0 picks one. */
  readonly listen?: { readonly host: string; readonly port: number };
  /** When set, every request needs HTTP basic authentication with it (else 401). */
  readonly credential?: { readonly principal: string; readonly secret: string };
  /** Serves `POST /__chaos` (tests only). */
  readonly chaos?: boolean;
  /** Re-send interval of unacknowledged updates. @default 10_000 */
  readonly statusRetryMs?: number;
  readonly clock: Clock;
  readonly random: Random;
  readonly log: Logger;
}

export class LocalAgent {
  static start(_o: LocalAgentOptions): Promise<LocalAgent> {
    throw new Error("not built yet");
  }
  get socketPath(): string {
    throw new Error("not built yet");
  }
  /** The TCP port when `listen` was given. */
  get tcpPort(): number | undefined {
    return undefined;
  }
  /** Stops serving; the tasks keep running for the next agent on this state directory. */
  close(): Promise<void> {
    throw new Error("not built yet");
  }
}
