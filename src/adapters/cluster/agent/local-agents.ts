/**
 * This machine as the local agent's agents: its cpus, memory, free disk and a port range,
 * split evenly into `n` agents so placement across agents can be tried on one machine. Each of
 * several agents has a hostname of its own (`<machine>-agent-<i>`; the processes still run here)
 * and attributes `agent` (its index), `rack` (`rack-<i>`), `zone` (`zone-0`, `zone-1`,
 * alternating) and `region` (`local`), so hostname-UNIQUE pods land on different agents and the
 * other operators have something to work on. A single agent keeps the machine's hostname.
 */
import type { SimAgentSpec } from "../sim-agent.js";

export interface Machine {
  readonly hostname: string;
  readonly cpus: number;
  readonly memMb: number;
  readonly diskMb: number;
  /** Inclusive. */
  readonly ports: { readonly begin: number; readonly end: number };
}

export function localAgentSpecs(machine: Machine, n: number): SimAgentSpec[] {
  if (!Number.isInteger(n) || n < 1) throw new Error(`local agents must be a positive integer, got ${n}`);
  const span = machine.ports.end - machine.ports.begin + 1;
  const width = Math.floor(span / n);
  if (width < 1) throw new Error(`${n} agents cannot share ${span} ports`);
  // Two decimals, rounded down, so the agents never add up to more than the machine.
  const share = (total: number): number => Math.floor((total / n) * 100) / 100;
  return Array.from({ length: n }, (_, i) => ({
    hostname: n === 1 ? machine.hostname : `${machine.hostname}-agent-${i}`,
    cpus: share(machine.cpus),
    memMb: Math.floor(machine.memMb / n),
    diskMb: Math.floor(machine.diskMb / n),
    ports: { begin: machine.ports.begin + i * width, end: machine.ports.begin + (i + 1) * width - 1 },
    attributes: { agent: String(i), rack: `rack-${i}`, zone: `zone-${i % 2}`, region: "local" },
  }));
}
