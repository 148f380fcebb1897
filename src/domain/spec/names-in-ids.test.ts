import { describe, expect, it } from "vitest";
import { TASK, indent, specText as spec } from "../../../test/fixtures/spec-text.js";
import { makeExecutorId, makeTaskId, parseTaskId, taskInstanceName } from "../task-id.js";
import { parseServiceSpec } from "./parse.js";

describe("pod types and task names with capitals in task ids (§2.1)", () => {
  it("round-trip through makeTaskId and parseTaskId", () => {
    const text = spec({ tasks: `Node-A:\n${indent(TASK, 2)}` }).replace("  hello:", "  custom-pod-A:");
    const pod = parseServiceSpec(text).spec.pods[0]!;
    const instance = taskInstanceName(pod.type, 0, pod.tasks[0]!.name);
    expect(instance).toBe("custom-pod-A-0-Node-A");
    const id = makeTaskId("svc", instance, "6c1b2f0e-0000-4000-8000-000000000000");
    expect(parseTaskId(id)).toEqual({ service: "svc", taskName: instance });
    expect(makeExecutorId("svc", pod.type, "u")).toBe("svc__custom-pod-A__u");
  });
});
