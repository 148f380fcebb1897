/**
 * One scheduler replica as its own process for the replicated chaos run, the failover e2e test
 * and the failover benchmark: `node --import tsx src/main.ts` on a ZooKeeper store with the
 * shared data directory (so the machine's one local agent), its own API port and no metrics
 * endpoint (three replicas on one machine would fight over the default port). Its log goes to a
 * file; the lines that say what role it plays ("leading", "standing by", "stepped down", with
 * their pino `time`) are kept, and so is the moment the process was seen dead: together they are
 * the replica's leadership intervals (leader-intervals.ts).
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { createWriteStream } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { ROOT } from "./scheduler.js";

/** The three log messages the design agreed on for the role of a replica. */
export const ROLE_MESSAGES = ["leading", "standing by", "stepped down"] as const;
export type RoleMessage = (typeof ROLE_MESSAGES)[number];

export interface RoleLine {
  readonly msg: RoleMessage;
  /** The line's pino `time` (ms since the epoch). */
  readonly time: number;
  /** "leading": the advertised address; "standing by": the leader's; "stepped down": the reason. */
  readonly detail: string;
}

export interface ReplicaOptions {
  /** `zk://host:port/chroot`. */
  readonly store: string;
  readonly dataDir: string;
  readonly logDir: string;
  /** Names the log file (`replica-<name>.log`). */
  readonly name: string;
  readonly sessionTimeoutS: number;
  /** `--listen`. @default 127.0.0.1:0 (a free port; a fixed one lets a restarted replica keep its address) */
  readonly listen?: string;
  readonly env?: Record<string, string>;
  /** More scheduler flags. */
  readonly extraArgs?: readonly string[];
}

export interface Replica {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  readonly logFile: string;
  /** performance.now() at spawn. */
  readonly spawnedAt: number;
  /** The replica's own API address (from "corral is serving"); rejects if it exits first. */
  readonly serving: Promise<string>;
  /** The role lines seen so far, in order. */
  readonly roles: RoleLine[];
  /** Date.now() when the exit was seen (an upper bound of the death: leadership ends by then). */
  diedAt: number | undefined;
  readonly exited: Promise<void>;
  /** Whether the process still runs. */
  alive(): boolean;
  /** The last role line says "leading". */
  leading(): boolean;
}

export function spawnReplica(o: ReplicaOptions): Replica {
  const logFile = join(o.logDir, `replica-${o.name}.log`);
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("CORRAL_")));
  const args = [
    "--import", "tsx", "src/main.ts",
    "--listen", o.listen ?? "127.0.0.1:0",
    "--metrics-listen", "off",
    "--store", o.store,
    "--data-dir", o.dataDir,
    "--zk-session-timeout", String(o.sessionTimeoutS),
    ...(o.extraArgs ?? []),
  ];
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...clean, ...o.env } });
  const out = createWriteStream(logFile, { flags: "a" });
  child.stderr!.pipe(out, { end: false });
  const roles: RoleLine[] = [];
  const replica: Replica = {
    name: o.name,
    child,
    pid: child.pid ?? 0,
    logFile,
    spawnedAt,
    serving: undefined as unknown as Promise<string>,
    roles,
    diedAt: undefined,
    exited: undefined as unknown as Promise<void>,
    alive: () => child.exitCode === null && child.signalCode === null,
    leading: () => roles.at(-1)?.msg === "leading",
  };
  const exited = new Promise<void>((resolve) =>
    child.on("exit", () => {
      replica.diedAt = Date.now();
      resolve();
    }),
  );
  const serving = new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on("line", (line) => {
      out.write(line + "\n");
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return; // not a log line
      }
      const msg = entry["msg"];
      if (msg === "corral is serving" && typeof entry["address"] === "string") resolve(entry["address"]);
      if ((ROLE_MESSAGES as readonly unknown[]).includes(msg) && typeof entry["time"] === "number") {
        const detail = entry["address"] ?? entry["leader"] ?? entry["reason"] ?? "";
        roles.push({ msg: msg as RoleMessage, time: entry["time"], detail: typeof detail === "string" ? detail : JSON.stringify(detail) });
      }
    });
    lines.on("close", () => out.end());
    void exited.then(() => reject(new Error(`replica ${o.name} exited (${child.signalCode ?? child.exitCode}) before serving; log ${logFile}`)));
  });
  serving.catch(() => undefined);
  Object.assign(replica, { serving, exited });
  return replica;
}

/** kill -9, and wait until the process is gone. */
export async function killReplica(r: Replica): Promise<void> {
  if (r.alive()) r.child.kill("SIGKILL");
  await r.exited;
}
