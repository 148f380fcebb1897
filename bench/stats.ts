/**
 * Small helpers shared by the benchmarks: percentiles, table formatting, machine line. Kept apart
 * so each bench file stays about its measurement only.
 */
import { availableParallelism, cpus } from "node:os";

export interface Summary {
  readonly n: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

/** Nearest-rank percentile of an ascending array (p in 0..100). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const sum = sorted.reduce((s, v) => s + v, 0);
  return {
    n: sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? Number.NaN,
    mean: sorted.length === 0 ? Number.NaN : sum / sorted.length,
  };
}

export function ms(v: number, digits = 3): string {
  return Number.isFinite(v) ? `${v.toFixed(digits)} ms` : "n/a";
}

export function kb(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KB`;
}

export function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** A plain-text table: columns padded to their widest cell. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length)));
  const line = (r: readonly string[]): string => r.map((cell, c) => cell.padEnd(widths[c]!)).join("  ").trimEnd();
  const [head, ...body] = rows;
  return [line(head!), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(line)].join("\n");
}

/** "met"/"MISSED" against a target; figures are reported, never asserted. */
export function verdict(ok: boolean): string {
  return ok ? "met" : "MISSED";
}

export function machine(): string {
  const c = cpus();
  return `nproc ${availableParallelism()} (${c[0]?.model.trim() ?? "?"}), node ${process.version}, ${process.platform}/${process.arch}`;
}
