/**
 * The scheduler's JSON log lines carry each key once: a child logger's bindings (`service`,
 * `component`, `requestId`) are not repeated by the lines written through it.
 */
import pino from "pino";
import { describe, expect, it } from "vitest";
import { createHarness } from "../harness/harness.js";
import { duplicateKeys } from "../json-keys.js";

describe("log lines", () => {
  it("finds a duplicate key", () => {
    expect(duplicateKeys('{"service":"hello","a":{"b":1,"b":2},"service":"hello","c":[{"d":1,"d":1}]}')).toEqual([
      "a.b",
      "service",
      "c.[].d",
    ]);
    expect(duplicateKeys('{"s":"a\\"b","t":"}","u":[1,{"v":null}],"w":{}}')).toEqual([]);
  });

  it("have no duplicate keys through a deploy, a recovery and a removal on the simulated cluster", async () => {
    const lines: string[] = [];
    const log = pino({ level: "debug", base: { app: "corral" } }, { write: (line: string) => lines.push(line) });
    const h = await createHarness({ deps: { log } });
    await h.put("hello", "hello-world.yml");
    await h.deployAll(["hello"]);
    for (const task of h.cluster.tasks().slice(0, 2)) h.cluster.failTask(task.taskId);
    await h.advance(10_000);
    await h.scheduler.uninstallService("hello");
    await h.advance(10_000);

    const entries = lines.map((line) => JSON.parse(line) as { msg?: string; service?: string });
    expect(entries.some((e) => /recover/i.test(e.msg ?? "") && e.service === "hello")).toBe(true);
    expect(entries.some((e) => e.msg === "service removed")).toBe(true);
    const duplicates = lines.flatMap((line) => duplicateKeys(line).map((key) => `${key} in ${line}`));
    expect(duplicates).toEqual([]);
  });
});
