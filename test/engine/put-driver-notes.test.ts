/**
 * PutService adds the cluster driver's notes (driver-notes.ts, here a stand-in that reads the
 * capabilities it is given) to the spec's own warnings: on a create, an update, an unchanged put
 * and a dry run; a scheduler told nothing of its cluster adds none.
 */
import { describe, expect, it, vi } from "vitest";
import type { ClusterCapabilities } from "../../src/domain/spec/driver-notes.js";
import type { ServiceSpec, SpecWarning } from "../../src/domain/spec/types.js";
import { createHarness } from "../harness/harness.js";

vi.mock("../../src/domain/spec/driver-notes.js", () => ({
  driverNotes: (spec: ServiceSpec, caps: ClusterCapabilities): SpecWarning[] =>
    spec.pods.map((p) => ({ field: `pods.${p.type}.image`, message: `${caps.kind} driver, cgroups ${caps.cgroups ? "on" : "off"}` })),
}));

const spec = (cmd: string): string => `
name: {{SERVICE_NAME}}
pods:
  web:
    count: 1
    tasks:
      server:
        goal: RUNNING
        cmd: ${cmd}
        cpus: 0.1
        memory: 32
`;

const NOTE = { field: "pods.web.image", message: "local driver, cgroups off" };

describe("PutService warnings from the cluster driver", () => {
  it("are added on every kind of put, dry run too", async () => {
    const h = await createHarness({ scheduler: { clusterCapabilities: { kind: "local", cgroups: false } } });
    const put = (cmd: string, dryRun = false) => h.scheduler.putService({ name: "site", spec: spec(cmd), parameters: {}, dryRun });
    const dry = await put("sleep 100", true);
    expect(dry).toMatchObject({ outcome: "CREATED", dryRun: true });
    expect(dry.warnings).toEqual([NOTE]);
    expect((await put("sleep 100")).warnings).toEqual([NOTE]);
    await h.deployAll(["site"]);
    expect(await put("sleep 100")).toMatchObject({ outcome: "UNCHANGED", warnings: [NOTE] });
    expect(await put("sleep 200", true)).toMatchObject({ outcome: "UPDATED", dryRun: true, warnings: [NOTE] });
    expect(await put("sleep 200")).toMatchObject({ outcome: "UPDATED", warnings: [NOTE] });
  });

  it("are none when the scheduler was not told its cluster's capabilities", async () => {
    const h = await createHarness();
    const result = await h.scheduler.putService({ name: "site", spec: spec("sleep 100"), parameters: {} });
    expect(result.warnings).toEqual([]);
  });
});
