/**
 * What a simulated agent is made of (its spec: amounts, ports, attributes, STATIC pools) and
 * who its operations are validated for (the framework and its roles).
 */
import type { Range, Resource } from "../../domain/cluster.js";
import { ResourceBag } from "./sim-resources.js";

/** One agent of the simulated cluster. Every field has a default. */
export interface SimAgentSpec {
  /** @default `<master-id>-S<index>` */
  readonly id?: string;
  /** @default `agent-<index>.sim.local` */
  readonly hostname?: string;
  /** @default 8 */
  readonly cpus?: number;
  /** @default 32768 */
  readonly memMb?: number;
  /** @default 102400 */
  readonly diskMb?: number;
  /** Inclusive port range(s). @default {begin: 31000, end: 32000} */
  readonly ports?: Range | readonly Range[];
  /** @default 0 */
  readonly gpus?: number;
  /** Offer attributes (zone, rack…). @default none */
  readonly attributes?: Readonly<Record<string, string>>;
  /**
   * Pools statically reserved for a role (`--pre-reserved`), taken out of the unreserved
   * amounts above: offered only to that role and its descendants, with reservations
   * `[{type: STATIC, role}]`. @default none
   */
  readonly preReserved?: readonly PreReservedPool[];
}

/** One statically reserved pool of an agent. Ports must lie in the agent's `ports`. */
export interface PreReservedPool {
  readonly role: string;
  readonly cpus?: number;
  readonly memMb?: number;
  readonly diskMb?: number;
  readonly ports?: readonly Range[];
}

/** The framework an operation is validated for. */
export interface SimFramework {
  readonly id: string;
  /** Its first role: the one unreserved resources are offered to. */
  readonly role: string;
  readonly principal: string;
  /** Every role it subscribed with, `role` first. @default [role] */
  readonly roles?: readonly string[];
}

/** The roles of `fw`, its first role first. */
export function frameworkRoles(fw: SimFramework): readonly string[] {
  return fw.roles && fw.roles.length > 0 ? fw.roles : [fw.role];
}

/** An agent's resources from its spec: the unreserved amounts less the STATIC pools, and the pools. */
export function agentResources(spec: SimAgentSpec): Resource[] {
  const pools = spec.preReserved ?? [];
  const ports = spec.ports ?? { begin: 31000, end: 32000 };
  const allPorts: readonly Range[] = "begin" in ports ? [ports] : ports;
  const poolPorts = pools.flatMap((p) => p.ports ?? []);
  const pooled = (key: "cpus" | "memMb" | "diskMb"): number => pools.reduce((n, p) => n + (p[key] ?? 0), 0);
  const scalars = (amounts: [string, number][]): Resource[] =>
    amounts.filter(([, v]) => v > 0).map(([name, scalar]): Resource => ({ name, type: "SCALAR", scalar }));
  const unreservedPorts = ResourceBag.of([{ name: "ports", type: "RANGES", ranges: allPorts }]);
  // A port belongs to one pool: two pools naming it would reserve it twice.
  pools.forEach((pool, i) => {
    for (const other of pools.slice(0, i)) {
      const clash = (pool.ports ?? []).find((a) => (other.ports ?? []).some((b) => a.begin <= b.end && b.begin <= a.end));
      if (clash) throw new Error(`pre-reserved ports ${clash.begin}-${clash.end} of ${pool.role} overlap the ports of ${other.role}`);
    }
  });
  if (poolPorts.length > 0) {
    const wanted = ResourceBag.of([{ name: "ports", type: "RANGES", ranges: poolPorts }]);
    if (!unreservedPorts.containsAll(wanted)) throw new Error(`pre-reserved ports ${wanted.describe()} are not all among the agent's ports`);
    unreservedPorts.subtractAll(wanted);
  }
  const left = (key: "cpus" | "memMb" | "diskMb", total: number): number => {
    const n = Math.round((total - pooled(key)) * 1000) / 1000;
    if (n < 0) throw new Error(`pre-reserved ${key} (${pooled(key)}) exceed the agent's ${total}`);
    return n;
  };
  const staticPools = pools.flatMap((p): Resource[] => {
    const reservations = [{ type: "STATIC" as const, role: p.role, labels: {} }];
    const ranges = p.ports ?? [];
    return [
      ...scalars([["cpus", p.cpus ?? 0], ["mem", p.memMb ?? 0], ["disk", p.diskMb ?? 0]]),
      ...(ranges.length > 0 ? [{ name: "ports", type: "RANGES" as const, ranges }] : []),
    ].map((r) => ({ ...r, reservations }));
  });
  return [
    ...scalars([
      ["cpus", left("cpus", spec.cpus ?? 8)],
      ["mem", left("memMb", spec.memMb ?? 32768)],
      ["disk", left("diskMb", spec.diskMb ?? 102400)],
      ["gpus", spec.gpus ?? 0],
    ]),
    ...unreservedPorts.toArray(),
    ...staticPools,
  ];
}
