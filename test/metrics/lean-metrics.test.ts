/** The lean counters and histograms render exactly as prom-client's own classes would, from the same samples. */
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { CorralMetrics } from "../../src/adapters/metrics/corral-metrics.js";
import { LeanCounter, LeanHistogram, LeanRegistry, ScrapedGauge } from "../../src/adapters/metrics/lean-metrics.js";

const BUCKETS = [0.001, 0.01, 0.1, 1];
const SAMPLES: [string, number][] = [["get", 0.0005], ["get", 0.001], ["multi", 0.05], ["get", 3], ["multi", 0.1], ["get", 0.0099]];

describe("lean metrics", () => {
  it("a histogram: same buckets (le inclusive, +Inf), sum and count per label set as prom-client's", async () => {
    const theirs = new Registry();
    const ours = new Registry();
    const h = new Histogram({ name: "x_seconds", help: "h", labelNames: ["op"], buckets: BUCKETS, registers: [theirs] });
    const lean = new LeanHistogram({ name: "x_seconds", help: "h", labelNames: ["op"], buckets: BUCKETS, registers: [ours] });
    const children = new Map([["get", lean.child({ op: "get" })], ["multi", lean.child({ op: "multi" })]]);
    for (const [op, v] of SAMPLES) {
      h.observe({ op }, v);
      children.get(op)!.observe(v);
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await ours.metrics()).toContain('x_seconds_bucket{le="0.01",op="get"} 3');
  });

  it("a counter: bound children and direct increments add to one series; a series exists from its first increment; labels in their declared order", async () => {
    const theirs = new Registry();
    const ours = new Registry();
    const c = new Counter({ name: "y_total", help: "c", labelNames: ["method", "code"], registers: [theirs] });
    const lean = new LeanCounter({ name: "y_total", help: "c", labelNames: ["method", "code"], registers: [ours] });
    const unused = lean.child({ method: "Get", code: "NOT_FOUND" });
    const ok = lean.child({ method: "Put", code: "OK" });
    ok.inc();
    ok.inc(2);
    lean.inc({ method: "Put", code: "OK" });
    lean.inc({ code: "ABORTED", method: "Put" }, 0);
    c.inc({ method: "Put", code: "OK" }, 4);
    c.inc({ method: "Put", code: "ABORTED" }, 0);
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await ours.metrics()).not.toContain("NOT_FOUND");
    unused.inc();
    expect(await ours.metrics()).toContain('y_total{method="Get",code="NOT_FOUND"} 1');
  });
});

describe("reset", () => {
  it("zeroes every series and keeps bound children counting into them", async () => {
    const registry = new Registry();
    const c = new LeanCounter({ name: "r_total", help: "c", labelNames: ["k"], registers: [registry] });
    const h = new LeanHistogram({ name: "r_seconds", help: "h", labelNames: ["k"], buckets: [1], registers: [registry] });
    const counted = c.child({ k: "a" });
    const timed = h.child({ k: "a" });
    counted.inc(5);
    timed.observe(0.5);
    registry.resetMetrics();
    expect(await registry.metrics()).toContain('r_total{k="a"} 0');
    expect(await registry.metrics()).toContain('r_seconds_count{k="a"} 0');
    counted.inc();
    timed.observe(2);
    expect(await registry.metrics()).toContain('r_total{k="a"} 1');
    expect(await registry.metrics()).toContain('r_seconds_bucket{le="1",k="a"} 0');
    expect(await registry.metrics()).toContain('r_seconds_count{k="a"} 1');
  });
});

describe("scraped gauges", () => {
  it("write the same text as a prom-client Gauge set to the same samples, escaping included, and read afresh on every scrape", async () => {
    const theirs = new Registry();
    const ours = new LeanRegistry();
    const samples = [
      { labels: { service: "a/b", plan: "deploy", status: "COMPLETE" }, value: 1 },
      { labels: { service: 'odd"\\name\nx', plan: "recovery", status: "IN_PROGRESS" }, value: 0.5 },
    ];
    const g = new Gauge({ name: "z_plans", help: "h with \\ and\nnewline", labelNames: ["service", "plan", "status"], registers: [theirs] });
    for (const s of samples) g.set(s.labels, s.value);
    let reads = 0;
    new ScrapedGauge({ name: "z_plans", help: "h with \\ and\nnewline", registers: [ours] }, () => {
      reads++;
      return samples;
    });
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await ours.getMetricsAsJSON()).toEqual(await theirs.getMetricsAsJSON());
    samples.pop();
    expect(await ours.metrics()).not.toContain("recovery");
    expect(reads).toBe(3);
  });

  it("let the event loop turn while they write thousands of series, and the text is whole", async () => {
    const ours = new LeanRegistry();
    const rows = Array.from({ length: 5000 }, (_, i) => ({ labels: { service: `s${i}` }, value: i }));
    new ScrapedGauge({ name: "z_many", help: "h", registers: [ours] }, () => rows);
    let turns = 0;
    let ticking = true;
    const tick = (): void => {
      turns++;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    const text = await ours.metrics();
    ticking = false;
    expect(turns).toBeGreaterThanOrEqual(4); // a turn per 1,000 lines
    expect(text.split("\n").filter((l) => l.startsWith("z_many{"))).toHaveLength(5000);
    expect(text).toContain('z_many{service="s4999"} 4999');
  });
});

describe("the exposition", () => {
  it("runs one scrape at a time: a second one waits, so each scrape's hooks bracket it alone", async () => {
    const metrics = new CorralMetrics();
    const rows = Array.from({ length: 3000 }, (_, i) => ({ labels: { service: `s${i}` }, value: 1 }));
    new ScrapedGauge({ name: "z_many", help: "h", registers: [metrics.registry] }, () => rows);
    const seen: string[] = [];
    metrics.onScrape({ begin: () => seen.push("begin"), end: () => seen.push("end") });
    const [a, b] = await Promise.all([metrics.exposition(), metrics.exposition()]);
    expect(seen).toEqual(["begin", "end", "begin", "end"]);
    expect(a.body.split("\n").filter((l) => l.startsWith("z_many{"))).toHaveLength(3000);
    expect(b.body.split("\n").filter((l) => l.startsWith("z_many{"))).toHaveLength(3000);
  });
});
