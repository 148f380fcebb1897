/**
 * `--agent-resources cpus:16;mem:65536;disk:100000`: what the local agent offers instead of what
 * it measured of this machine, in the syntax of a Mesos agent's `--resources` (scalars only).
 * Tasks are accounted, not confined, so offering more than the machine has lets many small
 * tasks run (each pod's executor alone takes 0.01 cpus and 32 MB, Mesos' minimum).
 */
import type { Machine } from "./local-agents.js";

export interface ResourceOverrides {
  readonly cpus?: number;
  readonly memMb?: number;
  readonly diskMb?: number;
}

const NAMES: Readonly<Record<string, keyof ResourceOverrides>> = { cpus: "cpus", mem: "memMb", disk: "diskMb" };

/** Parses `name:value;…` (cpus, mem in MB, disk in MB; positive numbers). Throws Error with the reason. */
export function parseAgentResources(text: string): ResourceOverrides {
  const out: Record<string, number> = {};
  for (const part of text.split(";").map((p) => p.trim()).filter((p) => p !== "")) {
    const m = /^([a-z]+):([0-9]+(?:\.[0-9]+)?)$/.exec(part);
    const key = m ? NAMES[m[1]!] : undefined;
    if (!m || key === undefined) throw new Error(`expects cpus:N;mem:MB;disk:MB, got ${JSON.stringify(part)}`);
    const value = Number(m[2]);
    if (!(value > 0)) throw new Error(`${m[1]} must be positive, got ${m[2]}`);
    if (key in out) throw new Error(`${m[1]} is given twice`);
    out[key] = value;
  }
  return out;
}

/** The machine with the overrides in place. */
export function withResources(machine: Machine, r: ResourceOverrides): Machine {
  return {
    ...machine,
    ...(r.cpus !== undefined ? { cpus: r.cpus } : {}),
    ...(r.memMb !== undefined ? { memMb: r.memMb } : {}),
    ...(r.diskMb !== undefined ? { diskMb: r.diskMb } : {}),
  };
}
