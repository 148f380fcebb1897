/**
 * What this machine offers to the local agent: all its cpus and memory, the data directory's
 * free disk, its unprivileged ports (those something else holds are left out when offers are
 * made, free-ports.ts).
 */
import { mkdirSync, statfsSync } from "node:fs";
import { availableParallelism, hostname, totalmem } from "node:os";
import { DEFAULT_PORTS } from "./free-ports.js";
import type { Machine } from "./local-agents.js";

export function thisMachine(dataDir: string): Machine {
  mkdirSync(dataDir, { recursive: true });
  const fs = statfsSync(dataDir);
  return {
    hostname: hostname(),
    cpus: availableParallelism(),
    memMb: Math.floor(totalmem() / 2 ** 20),
    diskMb: Math.floor((fs.bavail * fs.bsize) / 2 ** 20),
    ports: DEFAULT_PORTS,
  };
}
