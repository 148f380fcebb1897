/** What this machine offers to the local agent: all its cpus and memory, the data directory's free disk. */
import { mkdirSync, statfsSync } from "node:fs";
import { availableParallelism, hostname, totalmem } from "node:os";
import type { Machine } from "./local-agents.js";

/** Mesos' default agent port range is 31000–32000. */
export const LOCAL_PORTS = { begin: 31000, end: 32000 } as const;

export function thisMachine(dataDir: string): Machine {
  mkdirSync(dataDir, { recursive: true });
  const fs = statfsSync(dataDir);
  return {
    hostname: hostname(),
    cpus: availableParallelism(),
    memMb: Math.floor(totalmem() / 2 ** 20),
    diskMb: Math.floor((fs.bavail * fs.bsize) / 2 ** 20),
    ports: LOCAL_PORTS,
  };
}
