import { describe, expect, it } from "vitest";
import { makeExecutorId, makeTaskId, parseTaskId, stepName, taskInstanceName } from "./task-id.js";

describe("task ID grammar", () => {
  it.each([
    { name: "plain", id: "test1__hello-0-server__6c1b", service: "test1", task: "hello-0-server" },
    { name: "foldered", id: "path.to.svc__hello-0-server__u", service: "path.to.svc", task: "hello-0-server" },
    { name: "legacy name__uuid", id: "hello-0-server__uuid", service: undefined, task: "hello-0-server" },
    { name: "extra leading segments", id: "x__svc__task__uuid", service: "svc", task: "task" },
    { name: "___id", id: "___id", service: undefined, task: "_" },
    { name: "other____id", id: "other____id", service: "other", task: "" },
    { name: "other___task__id", id: "other___task__id", service: "other_", task: "task" },
    { name: "other___id", id: "other___id", service: undefined, task: "other_" },
  ])("parses $name", ({ id, service, task }) => {
    expect(parseTaskId(id)).toEqual({ service, taskName: task });
  });

  it.each(["name_id", "", "plain"])("rejects %j as malformed", (id) => {
    expect(() => parseTaskId(id)).toThrowError(/malformed/);
  });

  it("round-trips generated IDs", () => {
    const id = makeTaskId("team.db", taskInstanceName("hello", 0, "server"), "u-1");
    expect(id).toBe("team.db__hello-0-server__u-1");
    expect(parseTaskId(id)).toEqual({ service: "team.db", taskName: "hello-0-server" });
    expect(makeExecutorId("test1", "hello", "u")).toBe("test1__hello__u");
  });

  it.each([
    ["service", () => makeTaskId("a__b", "hello-0-server", "u")],
    ["task", () => makeTaskId("a", "x__y", "u")],
    ["pod", () => makeExecutorId("a", "p__q", "u")],
  ])("rejects '__' in the %s part", (_what, fn) => {
    expect(fn).toThrowError(/must not contain '__'/);
  });

  it("renders step names like the reference", () => {
    expect(stepName("hello", 0, ["server"])).toBe("hello-0:[server]");
    expect(stepName("hello", 1, ["first", "second"])).toBe("hello-1:[first, second]");
  });
});
