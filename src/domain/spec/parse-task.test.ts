import { describe, expect, it } from "vitest";
import {
  TASK,
  expectViolation,
  failureOf,
  specText as spec,
} from "../../../test/fixtures/spec-text.js";
import { parseServiceSpec } from "./parse.js";

const T = "spec.pods.hello.tasks.server";
const task = (extra: string): string => spec({ task: `${TASK}\n${extra}` });

describe("parseServiceSpec rejects a task", () => {
  it.each([
    {
      name: "missing cmd",
      text: spec({ task: "cpus: 1\nmemory: 1" }),
      field: `${T}.cmd`,
      reason: /is required/,
    },
    {
      name: "missing cpus",
      text: spec({ task: "cmd: x\nmemory: 1" }),
      field: `${T}.cpus`,
      reason: /unless the task uses a resource-set/,
    },
    {
      name: "zero cpus",
      text: spec({ task: "cmd: x\ncpus: 0\nmemory: 1" }),
      field: `${T}.cpus`,
      reason: /greater than 0/,
    },
    {
      name: "missing memory",
      text: spec({ task: "cmd: x\ncpus: 1" }),
      field: `${T}.memory`,
      reason: /is required/,
    },
    {
      name: "fractional memory",
      text: spec({ task: "cmd: x\ncpus: 1\nmemory: 1.5" }),
      field: `${T}.memory`,
      reason: /integer/,
    },
    { name: "negative gpus", text: task("gpus: -1"), field: `${T}.gpus`, reason: /at least 0/ },
    {
      name: "goal FINISHED",
      text: task("goal: FINISHED"),
      field: `${T}.goal`,
      reason: /use FINISH .* or ONCE/,
    },
    {
      name: "unknown goal",
      text: task("goal: DONE"),
      field: `${T}.goal`,
      reason: /RUNNING, FINISH, ONCE/,
    },
    {
      name: "essential not a boolean",
      text: task("essential: maybe"),
      field: `${T}.essential`,
      reason: /true or false/,
    },
    {
      name: "negative kill-grace-period",
      text: task("kill-grace-period: -1"),
      field: `${T}.kill-grace-period`,
      reason: /at least 0/,
    },
    {
      name: "env not a map",
      text: task("env: [a]"),
      field: `${T}.env`,
      reason: /must be a mapping/,
    },
    {
      name: "nested env value",
      text: task("env: {A: {b: c}}"),
      field: `${T}.env.A`,
      reason: /scalar/,
    },
    {
      name: "volume and volumes",
      text: task(
        "volume: {path: a, type: ROOT, size: 1}\nvolumes: {v: {path: b, type: ROOT, size: 1}}",
      ),
      field: `${T}.volumes`,
      reason: /either volume or volumes/,
    },
    {
      name: "volume type",
      text: task("volume: {path: a, type: DOCKER, size: 1}"),
      field: `${T}.volume.type`,
      reason: /ROOT, MOUNT/,
    },
    {
      name: "absolute volume path",
      text: task("volume: {path: /etc, type: ROOT, size: 1}"),
      field: `${T}.volume.path`,
      reason: /relative/,
    },
    {
      name: "escaping volume path",
      text: task("volume: {path: a/../.., type: ROOT, size: 1}"),
      field: `${T}.volume.path`,
      reason: /without '\.\.'/,
    },
    {
      name: "volume without size",
      text: task("volume: {path: a, type: ROOT}"),
      field: `${T}.volume.size`,
      reason: /is required/,
    },
    {
      name: "duplicate volume path",
      text: task(
        "volumes: {v1: {path: a, type: ROOT, size: 1}, v2: {path: a, type: ROOT, size: 1}}",
      ),
      field: `${T}.volumes.v2.path`,
      reason: /already used/,
    },
    {
      name: "port out of range",
      text: task("ports: {p: {port: 70000}}"),
      field: `${T}.ports.p.port`,
      reason: /at most 65535/,
    },
    {
      name: "bad env-key",
      text: task("ports: {p: {env-key: 1X}}"),
      field: `${T}.ports.p.env-key`,
      reason: /not a valid environment variable name/,
    },
    {
      name: "duplicate env-key",
      text: task("ports: {a: {env-key: P}, b: {env-key: P}}"),
      field: `${T}.ports.b.env-key`,
      reason: /already used by port a/,
    },
    {
      name: "unknown resource set",
      text: spec({ task: "cmd: x\nresource-set: nope" }),
      field: `${T}.resource-set`,
      reason: /unknown resource set 'nope' \(the pod defines none\)/,
    },
    {
      name: "health check without cmd",
      text: task("health-check: {interval: 5}"),
      field: `${T}.health-check.cmd`,
      reason: /is required/,
    },
    {
      name: "health check zero interval",
      text: task("health-check: {cmd: x, interval: 0}"),
      field: `${T}.health-check.interval`,
      reason: /at least 1/,
    },
    {
      name: "readiness check not a map",
      text: task("readiness-check: yes"),
      field: `${T}.readiness-check`,
      reason: /must be a mapping/,
    },
  ])("$name", ({ text, field, reason }) => expectViolation(text, field, reason));

  it("collects every violation into one error", () => {
    const text = spec({ task: "cpus: 0\nmemory: x\ngoal: FINISHED" }).replace(
      "count: 1",
      "count: -2",
    );
    expect(failureOf(() => parseServiceSpec(text)).violations.map((v) => v.field)).toEqual([
      "spec.pods.hello.count",
      "spec.pods.hello.tasks.server.cpus",
      "spec.pods.hello.tasks.server.memory",
      "spec.pods.hello.tasks.server.goal",
      "spec.pods.hello.tasks.server.cmd",
    ]);
  });
});
