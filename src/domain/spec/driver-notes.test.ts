import { describe, expect, it } from "vitest";
import { TASK, specText as spec } from "../../../test/fixtures/spec-text.js";
import { LOCAL_NOTES, driverNotes } from "./driver-notes.js";
import { parseServiceSpec } from "./parse.js";

const P = "spec.pods.hello";
const POD = "image: ubuntu:18.04\nnetworks: {dcos: }\nseccomp-unconfined: true\nshare-pid-namespace: true\nipc-mode: PRIVATE\nshm-size: 64";
const parsed = parseServiceSpec(spec({ pod: POD, task: `${TASK}\nipc-mode: SHARE_PARENT\nresource-limits: {memory: unlimited}` }));

describe("driverNotes", () => {
  it("explains each container key on the local agent, once, at the parser's field path", () => {
    expect(driverNotes(parsed.spec, { kind: "local", cgroups: false })).toEqual([
      { field: `${P}.image`, message: "the local agent runs tasks as host processes; on Mesos it is the container image" },
      { field: `${P}.networks`, message: LOCAL_NOTES.networks },
      { field: `${P}.seccomp-unconfined`, message: LOCAL_NOTES.seccomp },
      { field: `${P}.share-pid-namespace`, message: LOCAL_NOTES.sharePidNamespace },
      { field: `${P}.ipc-mode`, message: LOCAL_NOTES.ipcMode },
      { field: `${P}.shm-size`, message: LOCAL_NOTES.shmSize },
      { field: `${P}.tasks.server.ipc-mode`, message: LOCAL_NOTES.ipcMode },
      { field: `${P}.tasks.server.resource-limits`, message: "not enforced: needs root and a cgroup hierarchy; on Mesos it is TaskInfo.limits" },
    ]);
  });

  it("treats the simulated cluster as the local agent it stands in for", () => {
    expect(driverNotes(parsed.spec, { kind: "sim", cgroups: false })).toEqual(driverNotes(parsed.spec, { kind: "local", cgroups: false }));
  });

  it("does not warn about resource-limits where cgroups can enforce them", () => {
    expect(driverNotes(parsed.spec, { kind: "local", cgroups: true }).map((w) => w.field)).not.toContain(`${P}.tasks.server.resource-limits`);
  });

  it("has nothing to say on Mesos, which acts on every one of these keys", () => {
    expect(driverNotes(parsed.spec, { kind: "mesos", cgroups: false })).toEqual([]);
  });

  it("names seccomp-profile-name when that is the key written", () => {
    const spec2 = parseServiceSpec(spec({ pod: "seccomp-profile-name: p.json" })).spec;
    expect(driverNotes(spec2, { kind: "local", cgroups: true }).map((w) => w.field)).toEqual([`${P}.seccomp-profile-name`]);
  });

  it("says nothing about a spec without container keys", () => {
    expect(driverNotes(parseServiceSpec(spec()).spec, { kind: "local", cgroups: false })).toEqual([]);
  });
});
