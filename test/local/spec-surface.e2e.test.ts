/**
 * Issue 15 on the local agent, key by key, with specs of our own: each key's effect is checked
 * where the task can see it (its sandbox, its environment, /proc, its cgroup), and a key the
 * local agent cannot act on deploys anyway with one warning that says why.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cgroupSupport, taskCgroupDirs } from "../../src/adapters/cluster/agent/runtime/cgroups.js";
import { SecretFiles } from "../../src/adapters/secrets/secret-files.js";
import { killEverything, startLocal, tempDataDir, waitFor } from "./local-harness.js";
import type { LocalOptions, LocalRun, LocalTaskView } from "./local-harness.js";

const runs: LocalRun[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const run of runs.splice(0)) await run.stop().catch(() => undefined);
  for (const dir of dirs.splice(0)) await killEverything(dir);
});

async function start(options: LocalOptions = {}): Promise<LocalRun> {
  const dir = tempDataDir("surface");
  dirs.push(dir);
  const run = await startLocal(dir, options);
  runs.push(run);
  return run;
}

async function deploy(run: LocalRun, name: string, spec: string): Promise<readonly { field: string; message: string }[]> {
  const put = await run.scheduler.putService({ name, spec, parameters: {} });
  await waitFor(`${name} deployed`, () => run.scheduler.getPlan(name, "deploy").status === "COMPLETE", 30_000);
  return put.warnings;
}

function running(run: LocalRun, name: string): LocalTaskView {
  const t = run.cluster.tasks().find((x) => x.info.name === name && x.state === "TASK_RUNNING" && x.pid !== undefined);
  if (!t) throw new Error(`${name} is not running`);
  return t;
}

function fileIn(t: LocalTaskView, path: string): Promise<string> {
  return waitFor(`${path} in ${t.info.name}'s sandbox`, () => existsSync(join(t.sandbox, path)) && readFileSync(join(t.sandbox, path), "utf8"));
}

describe("dcos-commons spec keys on the local agent", () => {
  it("uris: fetched into the sandbox before the command runs; archives extracted, executables +x", async () => {
    const run = await start();
    const src = join(run.dataDir, "artifacts");
    mkdirSync(join(src, "pkg"), { recursive: true });
    writeFileSync(join(src, "greeting.txt"), "hello from a uri\n");
    writeFileSync(join(src, "pkg", "inside.txt"), "from the archive\n");
    execFileSync("tar", ["-czf", join(src, "bundle.tar.gz"), "-C", src, "pkg"]);
    const spec = `name: fetch
pods:
  app:
    count: 1
    uris:
      - file://${src}/greeting.txt
      - ${src}/bundle.tar.gz
    tasks:
      main:
        goal: RUNNING
        cmd: cat greeting.txt pkg/inside.txt > seen && exec sleep 1000
        cpus: 0.1
        memory: 32
`;
    expect(await deploy(run, "fetch", spec)).toEqual([]);
    const t = running(run, "app-0-main");
    expect(await fileIn(t, "seen")).toBe("hello from a uri\nfrom the archive\n");
    expect(t.info.command.uris?.map((u) => u.value)).toEqual([`file://${src}/greeting.txt`, `${src}/bundle.tar.gz`]);
  });

  it("uris: a fetch failure fails the task with the reason and the command never runs", async () => {
    const run = await start();
    const spec = `name: nofetch
pods:
  app:
    count: 1
    uris: [ "file:///nonexistent/corral-missing.txt" ]
    tasks:
      main: { goal: RUNNING, cmd: "touch ran; exec sleep 1000", cpus: 0.1, memory: 32 }
`;
    await run.scheduler.putService({ name: "nofetch", spec, parameters: {} });
    const failed = await waitFor("a TASK_FAILED", () => run.cluster.statuses.find((s) => s.state === "TASK_FAILED"));
    expect(failed.reason).toBe("REASON_CONTAINER_LAUNCH_FAILED");
    expect(failed.message).toContain("corral-missing.txt");
    const sandboxes = run.cluster.tasks().map((t) => t.sandbox);
    for (const s of sandboxes) expect(existsSync(join(s, "ran"))).toBe(false);
  });

  it("rlimits: applied to the task's processes (/proc/<pid>/limits)", async () => {
    const run = await start();
    const spec = `name: limits
pods:
  app:
    count: 1
    rlimits:
      RLIMIT_NOFILE: { soft: 1000, hard: 1500 }
      RLIMIT_CORE: {}
    tasks:
      main: { goal: RUNNING, cmd: "echo $$ > cmd.pid; exec sleep 1000", cpus: 0.1, memory: 32 }
`;
    await deploy(run, "limits", spec);
    const t = running(run, "app-0-main");
    const pid = (await fileIn(t, "cmd.pid")).trim();
    const limits = readFileSync(`/proc/${pid}/limits`, "utf8");
    expect(limits).toMatch(/Max open files\s+1000\s+1500\s+files/);
    expect(limits).toMatch(/Max core file size\s+unlimited\s+unlimited/);
  });

  it("resource-limits: a memory and cpu ceiling in the task's cgroup", async () => {
    const run = await start();
    const spec = `name: capped
pods:
  app:
    count: 1
    tasks:
      main:
        goal: RUNNING
        cmd: exec sleep 1000
        cpus: 0.1
        memory: 32
        resource-limits: { cpus: 0.5, memory: 64 }
`;
    const warnings = await deploy(run, "capped", spec);
    const t = running(run, "app-0-main");
    expect(t.info.limits).toEqual({ cpus: 0.5, mem: 64 });
    // This machine runs the tests as root with a cgroup hierarchy; elsewhere the put warns.
    if (!cgroupSupport().ok) {
      expect(warnings.map((w) => w.field)).toContain("spec.pods.app.tasks.main.resource-limits");
      return;
    }
    expect(warnings).toEqual([]);
    const dirsOf = taskCgroupDirs(t.taskId);
    const memory = dirsOf.find((d) => existsSync(join(d, "memory.limit_in_bytes")) || existsSync(join(d, "memory.max")));
    expect(memory).toBeDefined();
    const limit = existsSync(join(memory!, "memory.limit_in_bytes")) ? readFileSync(join(memory!, "memory.limit_in_bytes"), "utf8") : readFileSync(join(memory!, "memory.max"), "utf8");
    expect(Number(limit.trim())).toBe(64 * 1024 * 1024);
    const procs = dirsOf.flatMap((d) => (existsSync(join(d, "cgroup.procs")) ? readFileSync(join(d, "cgroup.procs"), "utf8").trim().split("\n") : []));
    expect(procs).toContain(String(t.pid));
  });

  it("essential: false — a non-essential task's exit relaunches only it; its sibling keeps running", async () => {
    const run = await start();
    const spec = `name: sidecar
pods:
  app:
    count: 1
    tasks:
      server: { goal: RUNNING, cmd: "exec sleep 1000", cpus: 0.1, memory: 32 }
      helper:
        goal: RUNNING
        essential: false
        cmd: "echo ran >> \\"$MESOS_SANDBOX/../runs-$TASK_NAME\\"; sleep 0.5; exit 3"
        cpus: 0.1
        memory: 32
`;
    await deploy(run, "sidecar", spec);
    const server = running(run, "app-0-server");
    await waitFor("the helper relaunched twice", () => run.cluster.statuses.filter((s) => s.state === "TASK_FAILED").length >= 2, 30_000);
    const now = running(run, "app-0-server");
    expect(now.taskId).toBe(server.taskId);
    expect(now.pid).toBe(server.pid);
    expect(run.cluster.statuses.some((s) => s.taskId === server.taskId && s.state !== "TASK_RUNNING" && s.state !== "TASK_STARTING" && s.state !== "TASK_STAGING")).toBe(false);
  });

  it("secrets: the value reaches the task as env and file, and no log line", async () => {
    const lines: string[] = [];
    const run = await start({ logLines: lines });
    const value = `v-${process.pid}-s3cr3t-value`;
    await new SecretFiles(join(run.dataDir, "agent", "secrets")).put("team/db-password", new TextEncoder().encode(value));
    const spec = `name: secretive
pods:
  app:
    count: 1
    secrets:
      db:
        secret: team/db-password
        env-key: DB_PASSWORD
        file: conf/db-password
    tasks:
      main: { goal: RUNNING, cmd: 'printf %s "$DB_PASSWORD" > got-env; cat conf/db-password > got-file; exec sleep 1000', cpus: 0.1, memory: 32 }
`;
    await deploy(run, "secretive", spec);
    const t = running(run, "app-0-main");
    expect(await fileIn(t, "got-env")).toBe(value);
    expect(await fileIn(t, "got-file")).toBe(value);
    expect(lines.length).toBeGreaterThan(0); // the capture works: the scheduler logs at trace
    expect(lines.filter((l) => l.includes(value))).toEqual([]);
    expect(JSON.stringify(t.info)).not.toContain(value);
    expect(JSON.stringify(run.scheduler.getService("secretive"))).not.toContain(value);
  });

  it("host-volumes and pod-level volumes: a host directory in the sandbox; one volume shared by the pod's tasks", async () => {
    const run = await start();
    const host = join(run.dataDir, "host-dir");
    mkdirSync(host);
    writeFileSync(join(host, "motd"), "from the host\n");
    const spec = `name: volumes
pods:
  app:
    count: 1
    host-volumes:
      etc:
        host-path: ${host}
        container-path: hostdir
        mode: RO
    volume: { path: shared, type: ROOT, size: 10 }
    tasks:
      writer: { goal: RUNNING, cmd: "cat hostdir/motd > seen; echo written > shared/note; exec sleep 1000", cpus: 0.1, memory: 32 }
      reader: { goal: RUNNING, cmd: "while [ ! -f shared/note ]; do sleep 0.1; done; cp shared/note got; exec sleep 1000", cpus: 0.1, memory: 32 }
`;
    await deploy(run, "volumes", spec);
    expect(await fileIn(running(run, "app-0-writer"), "seen")).toBe("from the host\n");
    expect(await fileIn(running(run, "app-0-reader"), "got")).toBe("written\n");
  });

  it("ports: env-key and ranges, a fixed port, advertise and vip reach the task and GetEndpoints", async () => {
    const run = await start({ ports: [{ begin: 31000, end: 31999 }] });
    const spec = `name: web
pods:
  app:
    count: 2
    tasks:
      main:
        goal: RUNNING
        cmd: 'echo "$HTTP_PORT $ADMIN" > ports; exec sleep 1000'
        cpus: 0.1
        memory: 32
        ports:
          http:
            port: 0
            env-key: HTTP_PORT
            advertise: true
            ranges: [ { begin: 31500, end: 31510 } ]
          admin:
            port: 0
            env-key: ADMIN
            vip: { prefix: web-admin, port: 80 }
`;
    await deploy(run, "web", spec);
    const tasks = [running(run, "app-0-main"), running(run, "app-1-main")];
    const http: number[] = [];
    for (const t of tasks) {
      const [p, admin] = (await fileIn(t, "ports")).trim().split(" ").map(Number);
      expect(p).toBeGreaterThanOrEqual(31500);
      expect(p).toBeLessThanOrEqual(31510);
      expect(admin).toBeGreaterThan(0);
      http.push(p!);
    }
    const endpoints = await run.scheduler.getEndpoints("web");
    const byName = new Map(endpoints.map((e) => [e.name, e]));
    expect(byName.get("http")?.addresses.sort()).toEqual(http.map((p) => `localhost:${p}`).sort());
    expect(byName.get("admin")?.vip).toMatch(/^web-admin\..*:80$/);
    await expect(run.scheduler.getEndpoints("web", "nope")).rejects.toMatchObject({ code: "not_found" });
  });

  it("a fixed port deploys on the local agent, and labels and discovery reach the TaskInfo", async () => {
    const run = await start({ ports: [{ begin: 31000, end: 31999 }] });
    const spec = `name: fixed
pods:
  Front-A:
    count: 1
    tasks:
      main:
        goal: RUNNING
        cmd: exec sleep 1000
        cpus: 0.1
        memory: 32
        labels: "tier:web,owner:ops"
        discovery: { prefix: front, visibility: EXTERNAL }
        ports:
          http: { port: 31777, advertise: yes }
`;
    await deploy(run, "fixed", spec);
    const t = running(run, "Front-A-0-main");
    expect(t.info.command.environment["PORT_HTTP"]).toBe("31777");
    expect(t.info.labels).toMatchObject({ tier: "web", owner: "ops" });
    expect(t.info.discovery).toMatchObject({ name: "front-0", visibility: "EXTERNAL" });
    expect(t.info.discovery?.ports?.map((p) => p.number)).toEqual([31777]);
  });

  it("image, networks, seccomp, shm and pid-namespace keys deploy with one warning each saying what happens instead", async () => {
    const run = await start();
    const spec = `name: mesosy
web-url: http://example.invalid/
pods:
  app:
    count: 1
    image: ubuntu:22.04
    networks:
      dcos: {}
    seccomp-profile-name: default.json
    share-pid-namespace: true
    ipc-mode: PRIVATE
    shm-size: 64
    tasks:
      main: { goal: RUNNING, cmd: "exec sleep 1000", cpus: 0.1, memory: 32 }
`;
    const warnings = await deploy(run, "mesosy", spec);
    const fields = warnings.map((w) => w.field).sort();
    expect(fields).toEqual(
      ["spec.web-url", "spec.pods.app.image", "spec.pods.app.networks", "spec.pods.app.seccomp-profile-name", "spec.pods.app.share-pid-namespace", "spec.pods.app.ipc-mode", "spec.pods.app.shm-size"].sort(),
    );
    expect(warnings.find((w) => w.field === "spec.pods.app.image")?.message).toMatch(/host/);
    // Still passed through for Mesos: the TaskInfo carries them.
    const t = running(run, "app-0-main");
    expect(t.info.container?.image).toBe("ubuntu:22.04");
    expect(readdirSync(t.sandbox)).toContain("stdout");
  });
});
