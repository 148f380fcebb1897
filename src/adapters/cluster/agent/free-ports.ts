/**
 * The ports the local agent offers: a configured set (`--ports a-b,c-d`; default this machine's
 * unprivileged ports 1024–65535) less those something else holds right now: the local port of
 * every TCP socket (listening, or an outgoing connection's, which a listener could not bind
 * either) and bound UDP sockets, read from /proc/net/{tcp,tcp6,udp,udp6}. Read at most once
 * a second however many allocation rounds ask, so a fixed port (9999) deploys when it is free
 * and is simply not offered while another program listens on it.
 */
import { readFileSync } from "node:fs";
import type { Range } from "../../../domain/cluster.js";

/** Unprivileged ports: what an agent not running as root could bind. */
export const DEFAULT_PORTS: readonly Range[] = Object.freeze([{ begin: 1024, end: 65535 }]);

const TABLES = ["/proc/net/tcp", "/proc/net/tcp6", "/proc/net/udp", "/proc/net/udp6"] as const;
const CACHE_MS = 1000;

/** `a-b,c-d` or single ports `a`; 1–65535, begin ≤ end. Throws Error with the reason. */
export function parsePortRanges(text: string): Range[] {
  const parts = text.split(",").map((p) => p.trim());
  if (parts.every((p) => p === "")) throw new Error("expects port ranges like 1024-65535 or 8000-8999,9999");
  return parts.map((part) => {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    const begin = Number(m?.[1]);
    const end = m?.[2] !== undefined ? Number(m[2]) : begin;
    if (!m || begin < 1 || end > 65535 || begin > end) throw new Error(`expects port ranges like 1024-65535 or 8000-8999,9999, got ${JSON.stringify(part)}`);
    return { begin, end };
  });
}

export function formatPortRanges(ranges: readonly Range[]): string {
  return ranges.map((r) => (r.begin === r.end ? String(r.begin) : `${r.begin}-${r.end}`)).join(",");
}

/** Local ports of one /proc/net table's text that are held: any TCP socket's, any bound UDP socket's. */
export function heldPorts(table: string, _tcp: boolean): number[] {
  const out: number[] = [];
  for (const line of table.split("\n").slice(1)) {
    const cols = line.trim().split(/\s+/);
    const local = cols[1];
    if (local === undefined || cols[3] === undefined) continue;
    const port = parseInt(local.slice(local.lastIndexOf(":") + 1), 16);
    if (port > 0) out.push(port);
  }
  return out;
}

/** Sorted ports as inclusive ranges. */
export function toRanges(ports: Iterable<number>): Range[] {
  const out: { begin: number; end: number }[] = [];
  for (const p of [...new Set(ports)].sort((a, b) => a - b)) {
    const last = out.at(-1);
    if (last && p === last.end + 1) last.end = p;
    else out.push({ begin: p, end: p });
  }
  return out;
}

/** The ports held on this machine now (a table that cannot be read counts as empty). */
export function busyPortsNow(read: (path: string) => string = (p) => readFileSync(p, "utf8")): Range[] {
  const ports: number[] = [];
  for (const path of TABLES) {
    let text: string;
    try {
      text = read(path);
    } catch {
      continue; // no IPv6, or no /proc: nothing known to be held there
    }
    ports.push(...heldPorts(text, path.includes("tcp")));
  }
  return toRanges(ports);
}

/** `busyPortsNow`, read again only when the last reading is older than a second. */
export function cachedBusyPorts(now: () => number, read?: (path: string) => string): () => readonly Range[] {
  let at = -Infinity;
  let last: readonly Range[] = [];
  return () => {
    const t = now();
    if (t - at >= CACHE_MS || t < at) {
      last = busyPortsNow(read);
      at = t;
    }
    return last;
  };
}
