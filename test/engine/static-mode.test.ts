/**
 * Static mode on the simulated cluster with a memory store and a fake clock: the spec files'
 * services are put on every start (an unchanged set relaunches nothing, a changed file updates
 * its service, a removed file uninstalls its service), a bad file fails the start with nothing
 * changed, and the admin API refuses puts and uninstalls while its reads work.
 */
import pino from "pino";
import { describe, expect, it } from "vitest";
import { MemoryPersister } from "../../src/adapters/persister/memory-persister.js";
import type { UninstallEventView } from "../../src/engine/admin-api.js";
import type { StaticServiceFile } from "../../src/engine/scheduler-parts.js";
import { decodeJson, encodeJson } from "../../src/engine/store/codec.js";
import { createHarness, example } from "../harness/harness.js";
import type { Harness, HarnessOptions } from "../harness/harness.js";
import { dumpStore } from "./store-dump.js";

const SIMPLE = example("simple.yml");
const HELLO_WORLD = example("hello-world.yml");

function file(base: string, spec: string, parameters: Record<string, string> = {}): StaticServiceFile {
  return { file: `/etc/corral/services/${base}.yml`, base, spec, parameters };
}

/** Each start draws other ids (a restarted scheduler's random is not the last one's again). */
let seed = 1;

async function start(files: readonly StaticServiceFile[], from?: Harness, more: HarnessOptions = {}): Promise<Harness> {
  return createHarness({
    seed: seed++,
    ...(from ? { cluster: from.cluster, clock: from.clock, persister: from.persister } : {}),
    ...more,
    scheduler: { serviceMode: "static", staticServices: files, ...more.scheduler },
  });
}

/** A logger keeping the messages it is given (info and up). */
function messages(): { log: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  const log = pino({ level: "info" }, { write: (line: string) => void lines.push((JSON.parse(line) as { msg: string }).msg) });
  return { log, lines };
}

const taskIds = (h: Harness, prefix = ""): string[] =>
  h.cluster
    .tasks()
    .map((t) => t.taskId)
    .filter((id) => id.startsWith(prefix))
    .sort();

async function collect(events: AsyncIterable<UninstallEventView>, until: (e: UninstallEventView) => boolean): Promise<UninstallEventView[]> {
  const out: UninstallEventView[] = [];
  for await (const e of events) {
    out.push(e);
    if (until(e)) break;
  }
  return out;
}

describe("static mode", () => {
  it("creates the files' services on start, named by their rendered name:, and deploys them", async () => {
    const literal = SIMPLE.replace("name: {{SERVICE_NAME}}", "name: team/literal");
    const h = await start([file("hello", HELLO_WORLD), file("other-base", literal), file("fw", SIMPLE.replace("{{SERVICE_NAME}}", "{{FRAMEWORK_NAME}}-x"))]);
    expect(h.scheduler.listServices().map((s) => [s.name, s.generation])).toEqual([
      ["corral-x", 1],
      ["hello", 1],
      ["team/literal", 1],
    ]);
    await h.deployAll(["hello", "team/literal", "corral-x"]);
    expect(taskIds(h, "team.literal__")).toHaveLength(1);
    expect(h.scheduler.getScheduler()).toMatchObject({ serviceMode: "static", schemaVersion: 2, services: 3, state: "RUNNING" });
    // The context keeps the presets, so a restart builds the same spec.
    const ctx = decodeJson<Record<string, unknown>>((await h.persister.get("ServiceList/team__literal/Context"))!.data);
    expect(ctx).toMatchObject({ name: "team/literal", presets: { SERVICE_NAME: "other-base", FRAMEWORK_NAME: "corral" }, parameters: {} });
  });

  it("a changed -p parameter that only reaches the tasks' env (TASKCFG_ALL_*) updates the service and relaunches its tasks", async () => {
    const first = await start([file("simple", SIMPLE, { TASKCFG_ALL_GREETING: "hello" })]);
    await first.deployAll(["simple"]);
    const [before] = taskIds(first, "simple__");
    await first.scheduler.stop();

    const second = await start([file("simple", SIMPLE, { TASKCFG_ALL_GREETING: "bye" })], first);
    expect(second.scheduler.getService("simple").generation).toBe(2);
    await second.deployAll(["simple"]);
    await second.advance(30_000);
    const running = second.cluster.tasks().filter((t) => t.taskId.startsWith("simple__"));
    expect(running.map((t) => t.taskId)).not.toContain(before);
    expect(running.map((t) => t.info.command.environment?.["GREETING"])).toEqual(["bye"]);
  });

  it("a restart with the same files relaunches nothing and leaves the generation as it was", async () => {
    const files = [file("hello", HELLO_WORLD), file("simple", SIMPLE)];
    const first = await start(files);
    await first.deployAll(["hello", "simple"]);
    const ids = taskIds(first);
    const launches = first.cluster.counts.launches;
    await first.scheduler.stop();

    const { log, lines } = messages();
    const second = await start(files, first, { deps: { log } });
    expect(lines.filter((l) => l.startsWith("static service"))).toEqual([
      "static service 'hello' (/etc/corral/services/hello.yml): unchanged",
      "static service 'simple' (/etc/corral/services/simple.yml): unchanged",
    ]);
    await second.deployAll(["hello", "simple"]);
    await second.advance(30_000);
    expect(taskIds(second)).toEqual(ids);
    expect(second.cluster.counts.launches).toBe(launches);
    expect(second.scheduler.listServices().map((s) => [s.name, s.generation])).toEqual([
      ["hello", 1],
      ["simple", 1],
    ]);
  });

  it("a changed file updates its service (a new task) and leaves the others' tasks alone", async () => {
    const first = await start([file("hello", HELLO_WORLD), file("simple", SIMPLE)]);
    await first.deployAll(["hello", "simple"]);
    const hello = taskIds(first, "hello__");
    const simple = taskIds(first, "simple__");
    await first.scheduler.stop();

    const { log, lines } = messages();
    const second = await start([file("hello", HELLO_WORLD), file("simple", SIMPLE.replace("cpus: 0.1", "cpus: 0.2")), file("new", SIMPLE)], first, { deps: { log } });
    expect(lines.filter((l) => l.startsWith("static service"))).toEqual([
      "static service 'hello' (/etc/corral/services/hello.yml): unchanged",
      "static service 'simple' (/etc/corral/services/simple.yml): updated (relaunched 1, added 0, decommissioned 0)",
      "static service 'new' (/etc/corral/services/new.yml): created",
    ]);
    expect(second.scheduler.getService("simple").generation).toBe(2);
    await second.deployAll(["hello", "simple", "new"]);
    expect(taskIds(second, "hello__")).toEqual(hello);
    expect(taskIds(second, "simple__")).toHaveLength(1);
    expect(taskIds(second, "simple__")).not.toEqual(simple);
  });

  it("a file no longer given uninstalls its service on the next start, to the end", async () => {
    const first = await start([file("hello", HELLO_WORLD), file("simple", SIMPLE)]);
    await first.deployAll(["hello", "simple"]);
    const hello = taskIds(first, "hello__");
    await first.scheduler.stop();

    const { log, lines } = messages();
    const second = await start([file("hello", HELLO_WORLD)], first, { deps: { log } });
    expect(lines).toContain("static service 'simple': removal started (no spec file names it)");
    expect(second.scheduler.getService("simple").state).toBe("UNINSTALLING");
    const events = collect(second.scheduler.watchUninstall(["simple"], 0n, new AbortController().signal), (e) => e.kind === "COMPLETED");
    for (let i = 0; i < 60 && second.scheduler.listServices().length > 1; i++) await second.advance(1000);
    expect(second.scheduler.listServices().map((s) => s.name)).toEqual(["hello"]);
    const kinds = (await events).map((e) => e.kind);
    expect(kinds[0]).toBe("STARTED");
    expect(kinds.at(-1)).toBe("COMPLETED");
    expect(taskIds(second, "simple__")).toEqual([]);
    expect(taskIds(second, "hello__")).toEqual(hello);
    expect(await second.persister.children("Services")).toEqual(["hello"]);
  });

  it("a file that does not build fails the start naming the file and its violations; nothing changes", async () => {
    const first = await start([file("hello", HELLO_WORLD), file("simple", SIMPLE)]);
    await first.deployAll(["hello", "simple"]);
    await first.scheduler.stop();
    const before = await dumpStore(first.persister);
    const ids = taskIds(first);

    const broken = SIMPLE.replace("cpus: 0.1", "cpus: lots");
    const failed = start([file("hello", HELLO_WORLD.replace("cpus: 0.1", "cpus: 0.3")), file("broken", broken)], first);
    await expect(failed).rejects.toMatchObject({
      code: "invalid_argument",
      message: expect.stringMatching(/^spec file '\/etc\/corral\/services\/broken\.yml' \(service 'broken'\) is refused: .*cpus/) as string,
      violations: [expect.objectContaining({ field: expect.stringMatching(/^\/etc\/corral\/services\/broken\.yml: spec\.pods.*cpus/) as string })],
    });
    // Neither the good file's update, nor the removal of `simple`, nor the bad file's service.
    expect(await dumpStore(first.persister)).toEqual(before);
    expect(taskIds(first)).toEqual(ids);
  });

  it("a change against the update rules fails the start with its violations; nothing changes", async () => {
    const first = await start([file("hello", HELLO_WORLD)]);
    await first.deployAll(["hello"]);
    await first.scheduler.stop();
    const before = await dumpStore(first.persister);
    const volume = "path: hello-container-path\n          type: ROOT\n          size: 25";
    expect(HELLO_WORLD).toContain(volume);
    const grown = HELLO_WORLD.replace(volume, volume.replace("25", "50"));
    await expect(start([file("hello", grown)], first)).rejects.toMatchObject({
      code: "failed_precondition",
      message: expect.stringMatching(/^spec file '.*hello\.yml' \(service 'hello'\) is refused: service 'hello' cannot change that way/) as string,
    });
    expect(await dumpStore(first.persister)).toEqual(before);
  });

  it("two files rendering one service name fail the start before the store is read", async () => {
    const persister = new MemoryPersister();
    const literal = SIMPLE.replace("name: {{SERVICE_NAME}}", "name: hello");
    await expect(start([file("hello", HELLO_WORLD), file("other", literal)], undefined, { persister })).rejects.toMatchObject({
      message: expect.stringMatching(/spec files '.*hello\.yml' and '.*other\.yml' both render the service name 'hello'/) as string,
    });
    expect((await dumpStore(persister)).size).toBe(0);
  });

  it("refuses PutService and UninstallService with FAILED_PRECONDITION naming the mode; reads work", async () => {
    const h = await start([file("hello", SIMPLE)]);
    await h.deployAll(["hello"]);
    const refusal = {
      code: "failed_precondition",
      message: "the scheduler runs in static mode: its services come from its spec files (--services); change the files and restart it",
    };
    await expect(h.scheduler.putService({ name: "other", spec: SIMPLE, parameters: {} })).rejects.toMatchObject(refusal);
    await expect(h.scheduler.putService({ name: "hello", spec: SIMPLE, parameters: {}, dryRun: true })).rejects.toMatchObject(refusal);
    await expect(h.scheduler.uninstallService("hello")).rejects.toMatchObject(refusal);
    expect(h.scheduler.listServices().map((s) => s.name)).toEqual(["hello"]);
    expect(h.scheduler.getService("hello").state).toBe("RUNNING");
    expect(h.scheduler.getPlan("hello", "deploy").status).toBe("COMPLETE");
    expect(await h.scheduler.listTasks("hello")).toHaveLength(1);
    expect(h.scheduler.getScheduler()).toMatchObject({ serviceMode: "static", schemaVersion: 2, services: 1 });
    // Plan control works as in dynamic mode.
    const restarted = await h.scheduler.controlPlan({ name: "hello", plan: "deploy", action: "RESTART", phase: "", step: "", parameters: {} });
    expect(restarted).toBeDefined();
    expect(h.scheduler.getPlan("hello", "deploy").status).not.toBe("COMPLETE");
  });

  it("with --uninstall, the files are not put: every stored service is removed", async () => {
    const first = await start([file("hello", SIMPLE)]);
    await first.deployAll(["hello"]);
    await first.scheduler.stop();
    const second = await start([file("hello", SIMPLE), file("new", SIMPLE)], first, { scheduler: { uninstall: true } });
    expect(second.scheduler.listServices().map((s) => [s.name, s.state])).toEqual([["hello", "UNINSTALLING"]]);
  });

  it("a file whose service is still being removed is put on a later start, once the removal completed", async () => {
    const first = await start([file("hello", SIMPLE), file("simple", SIMPLE)]);
    await first.deployAll(["hello", "simple"]);
    await first.scheduler.stop();
    const second = await start([file("hello", SIMPLE)], first);
    expect(second.scheduler.getService("simple").state).toBe("UNINSTALLING");
    await second.scheduler.stop();

    const { log, lines } = messages();
    const third = await start([file("hello", SIMPLE), file("simple", SIMPLE)], first, { deps: { log } });
    expect(lines).toContain("static service 'simple': still being removed; put on a later start");
    for (let i = 0; i < 60 && third.scheduler.listServices().length > 1; i++) await third.advance(1000);
    expect(third.scheduler.listServices().map((s) => s.name)).toEqual(["hello"]);
    await third.scheduler.stop();

    const { log: log4, lines: lines4 } = messages();
    const fourth = await start([file("hello", SIMPLE), file("simple", SIMPLE)], first, { deps: { log: log4 } });
    expect(lines4).toContain("static service 'simple' (/etc/corral/services/simple.yml): created");
    await fourth.deployAll(["simple"]);
    expect(taskIds(fourth, "simple__")).toHaveLength(1);
  });

  it("repairs a quarantined service of the set (its tasks adopted) and removes one no file names", async () => {
    const first = await start([file("hello", SIMPLE), file("simple", SIMPLE)]);
    await first.deployAll(["hello", "simple"]);
    const hello = taskIds(first, "hello__");
    await first.scheduler.stop();
    // What an upgrade that rejects the stored specs looks like: the contexts no longer build.
    for (const name of ["hello", "simple"]) {
      const path = `ServiceList/${name}/Context`;
      const ctx = decodeJson<Record<string, unknown>>((await first.persister.get(path))!.data);
      await first.persister.multi([{ kind: "set", path, data: encodeJson({ ...ctx, spec: `name: ${name}\npods: {}` }) }]);
    }

    const { log, lines } = messages();
    const second = await start([file("hello", SIMPLE)], first, { deps: { log } });
    expect(lines.filter((l) => l.startsWith("static service"))).toEqual([
      "static service 'hello' (/etc/corral/services/hello.yml): updated (repaired)",
      "static service 'simple': removal started (no spec file names it)",
    ]);
    expect(second.scheduler.getService("hello").state).not.toBe("QUARANTINED");
    for (let i = 0; i < 60 && second.scheduler.listServices().length > 1; i++) await second.advance(1000);
    expect(second.scheduler.listServices().map((s) => s.name)).toEqual(["hello"]);
    await second.deployAll(["hello"]);
    expect(taskIds(second, "hello__")).toEqual(hello);
  });
});
