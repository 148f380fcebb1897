/**
 * This machine as the local agent's agents: its cpus, memory, free disk and a port range,
 * split evenly into `n` agents so placement across agents can be tried on one machine. Each of
 * several agents has a hostname of its own (`<machine>-agent-<i>`; the processes still run here)
 * and attributes `agent` (its index), `rack` (`rack-<i>`), `zone` (`zone-0`, `zone-1`,
 * alternating) and `region` (`local`), so hostname-UNIQUE pods land on different agents and the
 * other operators have something to work on. A single agent keeps the machine's hostname.
 */
import type { Range } from "../../../domain/cluster.js";
import { intersect } from "../sim-offers.js";
import type { PreReservedPool, SimAgentSpec } from "../sim-agent.js";

export interface Machine {
  readonly hostname: string;
  readonly cpus: number;
  readonly memMb: number;
  readonly diskMb: number;
  /** Inclusive range(s): the ports the agent may offer (`--ports`). */
  readonly ports: Range | readonly Range[];
  /** Pools statically reserved for roles (`--pre-reserved`), split like the rest. @default none */
  readonly preReserved?: readonly PreReservedPool[];
}

export function localAgentSpecs(machine: Machine, n: number): SimAgentSpec[] {
  if (!Number.isInteger(n) || n < 1) throw new Error(`local agents must be a positive integer, got ${n}`);
  const portShares = splitPorts("begin" in machine.ports ? [machine.ports] : machine.ports, n);
  // Two decimals, rounded down, so the agents never add up to more than the machine.
  const share = (total: number): number => Math.floor((total / n) * 100) / 100;
  const whole = (total: number | undefined): number | undefined => (total === undefined ? undefined : Math.floor(total / n));
  for (const p of machine.preReserved ?? []) {
    const count = (rs: readonly Range[]): number => rs.reduce((k, r) => k + r.end - r.begin + 1, 0);
    const placed = portShares.reduce((k, share) => k + count(intersect(p.ports ?? [], share)), 0);
    if (placed !== count(p.ports ?? [])) throw new Error(`pre-reserved ports of role '${p.role}' are not all among the ports the agents offer`);
  }
  return portShares.map((ports, i) => {
    const pools = (machine.preReserved ?? []).map((p): PreReservedPool => {
      const own = p.ports ? intersect(p.ports, ports) : [];
      return {
        role: p.role,
        ...(p.cpus !== undefined ? { cpus: share(p.cpus) } : {}),
        ...(p.memMb !== undefined ? { memMb: whole(p.memMb)! } : {}),
        ...(p.diskMb !== undefined ? { diskMb: whole(p.diskMb)! } : {}),
        ...(own.length > 0 ? { ports: own } : {}),
      };
    });
    return {
      hostname: n === 1 ? machine.hostname : `${machine.hostname}-agent-${i}`,
      cpus: share(machine.cpus),
      memMb: Math.floor(machine.memMb / n),
      diskMb: Math.floor(machine.diskMb / n),
      ports: ports.length === 1 ? ports[0]! : ports,
      attributes: { agent: String(i), rack: `rack-${i}`, zone: `zone-${i % 2}`, region: "local" },
      ...(pools.length > 0 ? { preReserved: pools } : {}),
    };
  });
}

/** `ranges` cut into `n` disjoint runs of the same number of ports, in order (the remainder unused). */
export function splitPorts(ranges: readonly Range[], n: number): Range[][] {
  const span = ranges.reduce((k, r) => k + r.end - r.begin + 1, 0);
  const width = Math.floor(span / n);
  if (width < 1) throw new Error(`${n} agents cannot share ${span} ports`);
  const out: Range[][] = [];
  let current: Range[] = [];
  let need = width;
  for (const r of ranges) {
    let begin = r.begin;
    while (begin <= r.end && out.length < n) {
      const end = Math.min(r.end, begin + need - 1);
      current.push({ begin, end });
      need -= end - begin + 1;
      begin = end + 1;
      if (need === 0) {
        out.push(current);
        current = [];
        need = width;
      }
    }
  }
  return out;
}
