import { describe, expect, it } from "vitest";
import { TASK, expectViolation, specText as spec } from "../../../test/fixtures/spec-text.js";
import { parseServiceSpec } from "./parse.js";

const P = "spec.pods.hello";
const T = `${P}.tasks.server`;
const CONTAINER = "older form; Corral reads its image/networks/rlimits as pod-level keys";

describe("older and reference-only keys: each named with what happens instead", () => {
  it("replacement-failure-policy points at Corral's own replacement", () => {
    const { warnings } = parseServiceSpec(spec({ tail: "replacement-failure-policy: {permanent-failure-timeout-secs: 600, min-replace-delay-secs: 240}" }));
    expect(warnings).toEqual([
      { field: "spec.replacement-failure-policy", message: expect.stringMatching(/--replace-unreachable-after, or `corral pod NAME replace POD`/) },
    ]);
  });

  it("reads container.image/networks/rlimits as pod-level keys, with one warning", () => {
    const pod = "container:\n  image: ubuntu:18.04\n  networks: {dcos: {}}\n  rlimits: {RLIMIT_NOFILE: {soft: 10, hard: 20}}";
    const { spec: parsed, warnings } = parseServiceSpec(spec({ pod }));
    expect(parsed.pods[0]).toMatchObject({
      image: "ubuntu:18.04",
      networks: [{ name: "dcos" }],
      rlimits: [{ name: "RLIMIT_NOFILE", soft: 10, hard: 20 }],
    });
    expect(warnings).toEqual([{ field: `${P}.container`, message: CONTAINER }]);
  });

  it("reads the oldest container.image-name as the image", () => {
    const parsed = parseServiceSpec(spec({ pod: "container: {image-name: 'ubuntu:14.04'}" }));
    expect(parsed.spec.pods[0]?.image).toBe("ubuntu:14.04");
  });

  it("checks container keys as pod-level ones, at their own path", () => {
    expectViolation(spec({ pod: "container: {rlimits: {RLIMIT_NOPE: {}}}" }), `${P}.container.rlimits.RLIMIT_NOPE`, /unknown rlimit/);
    const { warnings } = parseServiceSpec(spec({ pod: "container: {image: x, volumes: y}" }));
    expect(warnings).toContainEqual({ field: `${P}.container.volumes`, message: "unknown key, ignored" });
  });

  it("lets the pod-level key win over the container's, with a warning", () => {
    const { spec: parsed, warnings } = parseServiceSpec(spec({ pod: "image: new:1\ncontainer: {image: old:1}" }));
    expect(parsed.pods[0]?.image).toBe("new:1");
    expect(warnings).toEqual([
      { field: `${P}.container`, message: CONTAINER },
      { field: `${P}.container.image`, message: "also given at pod level as image; the pod-level value is used" },
    ]);
  });

  it("says capabilities are not granted and isolate-tmp is not acted on", () => {
    const { warnings } = parseServiceSpec(spec({ pod: "capabilities: [NET_ADMIN]\nisolate-tmp: true" }));
    expect(warnings).toEqual([
      { field: `${P}.capabilities`, message: expect.stringMatching(/^Linux capabilities are not granted: .*local agent.*Mesos.*LinuxInfo/) },
      { field: `${P}.isolate-tmp`, message: "not acted on: tasks share the host's /tmp; the sandbox has no tmp/" },
    ]);
  });

  it("reads shared-memory and shared-memory-size as ipc-mode and shm-size, on pods and tasks", () => {
    const { spec: parsed, warnings } = parseServiceSpec(
      spec({ pod: "shared-memory: PRIVATE\nshared-memory-size: 128", task: `${TASK}\nshared-memory: PRIVATE\nshared-memory-size: 256` }),
    );
    expect(parsed.pods[0]).toMatchObject({ ipcMode: "PRIVATE", shmSizeMb: 128 });
    expect(parsed.pods[0]?.tasks[0]).toMatchObject({ ipcMode: "PRIVATE", shmSizeMb: 256 });
    expect(warnings).toEqual([
      { field: `${T}.shared-memory`, message: "older name of ipc-mode; read as ipc-mode" },
      { field: `${T}.shared-memory-size`, message: "older name of shm-size; read as shm-size" },
      { field: `${P}.shared-memory`, message: "older name of ipc-mode; read as ipc-mode" },
      { field: `${P}.shared-memory-size`, message: "older name of shm-size; read as shm-size" },
    ]);
  });

  it("lets the new name win when both are given, with a warning", () => {
    const { spec: parsed, warnings } = parseServiceSpec(spec({ task: `${TASK}\nipc-mode: PRIVATE\nshared-memory: SHARE_PARENT` }));
    expect(parsed.pods[0]?.tasks[0]?.ipcMode).toBe("PRIVATE");
    expect(warnings).toEqual([{ field: `${T}.shared-memory`, message: "older name of ipc-mode; ignored because ipc-mode is also given" }]);
  });

  it("reports a bad value at the older key that held it", () => {
    expectViolation(spec({ pod: "shared-memory: SHARED" }), `${P}.shared-memory`, /must be one of PRIVATE, SHARE_PARENT/);
  });

  it("keeps 'unknown key, ignored' for keys that are truly unknown", () => {
    const { warnings } = parseServiceSpec(spec({ pod: "colour: blue", tail: "api-port: 8080" }));
    expect(warnings).toEqual([
      { field: "spec.api-port", message: "unknown key, ignored" },
      { field: `${P}.colour`, message: "unknown key, ignored" },
    ]);
  });
});
