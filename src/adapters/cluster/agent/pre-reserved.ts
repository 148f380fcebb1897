/**
 * `--pre-reserved R:cpus=N,mem=MB,disk=MB[,ports=a-b,c-d][;R2:…]`: pools of the local agent
 * statically reserved for a role, as a Mesos agent's `--resources` with `cpus(R):N` gives them.
 * Offered only to frameworks subscribed with R or a role below it (`R/<role>`), which refine
 * them with their own reservation (mesos-v1-api.md §9.1).
 */
import type { PreReservedPool } from "../sim-agent.js";
import { parsePortRanges } from "./free-ports.js";

const KEYS = { cpus: "cpus", mem: "memMb", disk: "diskMb" } as const;
const SYNTAX = "expects ROLE:cpus=N,mem=MB,disk=MB[,ports=a-b][;ROLE2:…]";

/** Why `role` cannot hold a reservation (Mesos' role name rules, `*` excluded), or undefined. */
export function roleProblem(role: string): string | undefined {
  if (role === "" || role === "*") return `'${role}' is not a role that can hold a reservation`;
  const bad = role.split("/").find((s) => s === "" || s === "." || s === ".." || s.startsWith("-") || /[\s*]/.test(s));
  return bad === undefined ? undefined : `role '${role}' is not valid (segments separated by '/', none empty, '.', '..', starting with '-' or holding blanks or '*')`;
}

/** Parses the flag's value. Throws Error with the reason. */
export function parsePreReserved(text: string): PreReservedPool[] {
  const pools: PreReservedPool[] = [];
  for (const part of text.split(";").map((p) => p.trim()).filter((p) => p !== "")) {
    const colon = part.indexOf(":");
    if (colon < 0) throw new Error(`${SYNTAX}, got ${JSON.stringify(part)}`);
    const role = part.slice(0, colon).trim();
    const problem = roleProblem(role);
    if (problem) throw new Error(problem);
    if (pools.some((p) => p.role === role)) throw new Error(`role '${role}' is given twice`);
    pools.push(readPool(role, part.slice(colon + 1)));
  }
  if (pools.length === 0) throw new Error(SYNTAX);
  return pools;
}

/** `cpus=1,ports=9000-9001,9005,mem=512`: a token without `=` continues the value before it (ports). */
function readPool(role: string, body: string): PreReservedPool {
  const fields = new Map<string, string>();
  let lastKey: string | undefined;
  for (const token of body.split(",").map((t) => t.trim())) {
    const eq = token.indexOf("=");
    if (eq < 0 && lastKey === "ports" && token !== "") {
      fields.set("ports", `${fields.get("ports")},${token}`);
      continue;
    }
    const key = token.slice(0, eq).trim();
    if (eq < 0 || !(Object.hasOwn(KEYS, key) || key === "ports")) throw new Error(`${role}: ${SYNTAX}, got ${JSON.stringify(token)}`);
    if (fields.has(key)) throw new Error(`${role}: ${key} is given twice`);
    fields.set(key, token.slice(eq + 1).trim());
    lastKey = key;
  }
  const pool: { -readonly [K in keyof PreReservedPool]: PreReservedPool[K] } = { role };
  for (const [key, value] of fields) {
    if (key === "ports") {
      pool.ports = parsePortRanges(value);
      continue;
    }
    const n = Number(value);
    if (value === "" || !Number.isFinite(n) || n <= 0) throw new Error(`${role}: ${key} must be a positive number, got ${JSON.stringify(value)}`);
    pool[KEYS[key as keyof typeof KEYS]] = n;
  }
  if (fields.size === 0) throw new Error(`${role}: ${SYNTAX}`);
  return pool;
}
