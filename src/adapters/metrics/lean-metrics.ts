/**
 * Counters and histograms whose hot path is a few number writes: label values are bound once
 * (`child`) and a sample adds to the bound series. prom-client's own classes hash the labels,
 * validate them and turn the bucket bound into a property key on every call; a put passes
 * through several of them (its RPC, its store operations, the statuses of what it deploys),
 * which counted against the ≤ 5 % budget of bench q. The registry still renders these (duck
 * typed: `name`, `help`, `type`, `get()`), in prom-client's exact text format.
 */
import { Registry } from "prom-client";
import type { Metric } from "prom-client";

type Labels<L extends string> = Readonly<Record<L, string>>;

/** What the registry renders (the shape of prom-client's own `get()`). */
interface Exported {
  readonly name: string;
  readonly help: string;
  readonly type: "counter" | "gauge" | "histogram";
  readonly aggregator: "sum";
  readonly values: readonly { readonly labels: Readonly<Record<string, string | number>>; readonly value: number; readonly metricName?: string }[];
}

export interface CounterChild {
  inc(by?: number): void;
}

export interface HistogramChild {
  observe(value: number): void;
}

interface Config<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly L[];
  readonly registers: readonly Registry[];
}

abstract class LeanMetric<L extends string, S> {
  readonly name: string;
  readonly help: string;
  readonly aggregator = "sum";
  protected readonly series = new Map<string, { readonly labels: Labels<L>; readonly s: S }>();
  private readonly labelNames: readonly L[];

  constructor(config: Config<L>) {
    this.name = config.name;
    this.help = config.help;
    this.labelNames = config.labelNames;
    for (const r of config.registers) r.registerMetric(this as unknown as Metric);
  }

  protected bound(labels: Labels<L>): S {
    const key = this.labelNames.map((n) => labels[n]).join("\u0000");
    let entry = this.series.get(key);
    if (!entry) {
      // In the declared order, whatever the caller's.
      entry = { labels: Object.fromEntries(this.labelNames.map((n) => [n, labels[n]])) as Labels<L>, s: this.fresh() };
      this.series.set(key, entry);
    }
    return entry.s;
  }

  protected abstract fresh(): S;

  protected abstract zero(s: S): void;

  /** Every series back to 0 (kept, not dropped as prom-client does: bound children stay valid). */
  reset(): void {
    for (const { s } of this.series.values()) this.zero(s);
  }
}

/** `make` called once per key and its result kept: the series of a label value bound once. */
export function perKey<K, V>(make: (key: K) => V): (key: K) => V {
  const made = new Map<K, V>();
  return (key) => {
    let value = made.get(key);
    if (value === undefined) made.set(key, (value = make(key)));
    return value;
  };
}

export class LeanCounter<L extends string> extends LeanMetric<L, { n: number }> {
  readonly type = "counter";

  /** The series of `labels`, made on its first `inc` (until then it is not exported; `inc(labels, 0)` makes it at 0). */
  child(labels: Labels<L>): CounterChild {
    let s: { n: number } | undefined;
    return { inc: (by = 1) => void ((s ??= this.bound(labels)).n += by) };
  }

  inc(labels: Labels<L>, by = 1): void {
    this.bound(labels).n += by;
  }

  protected fresh(): { n: number } {
    return { n: 0 };
  }

  protected zero(s: { n: number }): void {
    s.n = 0;
  }

  async get(): Promise<Exported> {
    const values = [...this.series.values()].map(({ labels, s }) => ({ labels, value: s.n, metricName: this.name }));
    return { name: this.name, help: this.help, type: "counter", aggregator: "sum", values };
  }
}

interface Buckets {
  /** Per bucket (non-cumulative) counts; the last one is +Inf's own. */
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

export class LeanHistogram<L extends string> extends LeanMetric<L, Buckets> {
  readonly type = "histogram";
  private readonly bounds: readonly number[];

  constructor(config: Config<L> & { readonly buckets: readonly number[] }) {
    super(config);
    this.bounds = [...config.buckets].sort((a, b) => a - b);
  }

  /** The series of `labels`, made on its first `observe`. */
  child(labels: Labels<L>): HistogramChild {
    let b: Buckets | undefined;
    const bounds = this.bounds;
    return {
      observe: (value) => {
        b ??= this.bound(labels);
        let i = 0;
        while (i < bounds.length && value > bounds[i]!) i++;
        b.counts[i]!++;
        b.sum += value;
        b.count++;
      },
    };
  }

  protected fresh(): Buckets {
    return { counts: new Float64Array(this.bounds.length + 1), sum: 0, count: 0 };
  }

  protected zero(b: Buckets): void {
    b.counts.fill(0);
    b.sum = 0;
    b.count = 0;
  }

  async get(): Promise<Exported> {
    const values: Exported["values"][number][] = [];
    for (const { labels, s } of this.series.values()) {
      let cumulative = 0;
      this.bounds.forEach((le, i) => {
        cumulative += s.counts[i]!;
        values.push({ labels: { le, ...labels }, value: cumulative, metricName: `${this.name}_bucket` });
      });
      values.push({ labels: { le: "+Inf", ...labels }, value: s.count, metricName: `${this.name}_bucket` });
      values.push({ labels, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels, value: s.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: "histogram", aggregator: "sum", values };
  }
}

/**
 * A gauge whose samples are computed when scraped (`read`), handed to the registry as they are:
 * no series kept between scrapes, nothing hashed (`corral_plans` has one series per plan of
 * every service: ~10,000 at 5,000 services).
 */
export class ScrapedGauge<L extends string> {
  readonly type = "gauge";
  readonly aggregator = "sum";
  readonly name: string;
  readonly help: string;

  constructor(
    config: Omit<Config<L>, "labelNames">,
    private readonly read: () => Iterable<{ readonly labels: Labels<L>; readonly value: number }> | Promise<Iterable<{ readonly labels: Labels<L>; readonly value: number }>>,
  ) {
    this.name = config.name;
    this.help = config.help;
    for (const r of config.registers) r.registerMetric(this as unknown as Metric);
  }

  async get(): Promise<Exported> {
    const values: Exported["values"][number][] = [];
    for (const { labels, value } of await this.read()) values.push({ labels, value });
    return { name: this.name, help: this.help, type: "gauge", aggregator: "sum", values };
  }

  /** The text exposition, written here: the registry's generic formatting took ~20 ms for 10,000 series. */
  async text(): Promise<string> {
    const lines = [`# HELP ${this.name} ${escapeText(this.help)}`, `# TYPE ${this.name} gauge`];
    let written = 0;
    for (const { labels, value } of await this.read()) {
      if (++written % LINES_PER_TURN === 0) await nextTurn();
      const pairs: string[] = [];
      for (const key in labels) pairs.push(`${key}="${escapeLabel(labels[key])}"`);
      lines.push(`${this.name}${pairs.length > 0 ? `{${pairs.join(",")}}` : ""} ${formatValue(value)}`);
    }
    return lines.join("\n");
  }

  reset(): void {}
}

/**
 * Lines a scraped gauge writes between two turns of the event loop: 10,000 series are ~5 ms of
 * writing, which would otherwise hold every API call waiting.
 */
const LINES_PER_TURN = 1000;

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * A Registry that has scraped gauges write their own text (same format; see ScrapedGauge.text).
 * `getMetricsAsString` is prom-client's per-metric step of `metrics()`, not in its typings: were
 * it gone, the gauges would still be rendered through their `get()`, only slower.
 */
export class LeanRegistry extends Registry {
  constructor() {
    super();
    const self = this as unknown as { getMetricsAsString?: (metric: unknown) => Promise<string> };
    const generic = self.getMetricsAsString?.bind(this);
    if (generic) self.getMetricsAsString = (metric) => (metric instanceof ScrapedGauge ? metric.text() : generic(metric));
  }
}

const NEEDS_ESCAPE = /[\\\n"]/;

function escapeText(s: string): string {
  return s.replaceAll("\\", "\\\\").replaceAll("\n", "\\n");
}

function escapeLabel(s: string): string {
  return NEEDS_ESCAPE.test(s) ? escapeText(s).replaceAll('"', '\\"') : s;
}

/** As prom-client writes a sample's value. */
function formatValue(v: number): string {
  if (Number.isNaN(v)) return "Nan";
  if (!Number.isFinite(v)) return v < 0 ? "-Inf" : "+Inf";
  return String(v);
}

/** Seconds since `startMs` (a `performance.now()`). */
export function secondsSince(startMs: number): number {
  return (performance.now() - startMs) / 1000;
}
