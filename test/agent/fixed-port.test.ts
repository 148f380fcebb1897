/**
 * A spec with a fixed port deploys on the local agent once the agent offers that port (issue 15
 * item 5), and does not while another program listens on it: the agent leaves held ports out of
 * its offers, so the pod waits instead of failing to bind.
 */
import { existsSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { killEverything, startLocal, tempDataDir, waitFor } from "../local/local-harness.js";
import type { LocalRun } from "../local/local-harness.js";

const runs: LocalRun[] = [];
const dirs: string[] = [];
const servers: Server[] = [];

afterEach(async () => {
  for (const s of servers.splice(0)) s.close();
  for (const run of runs.splice(0)) await run.stop().catch(() => undefined);
  for (const dir of dirs.splice(0)) await killEverything(dir);
});

async function start(ports: { begin: number; end: number }): Promise<LocalRun> {
  const dir = tempDataDir("fixed-port");
  dirs.push(dir);
  const run = await startLocal(dir, { ports: [ports] });
  runs.push(run);
  return run;
}

/** Listens on the first free port from `from` on; the caller closes it to free the port. */
async function holdFreePort(from: number): Promise<{ port: number; server: Server }> {
  for (let port = from; port < from + 1000; port++) {
    const server = createServer();
    const ok = await new Promise<boolean>((done) => {
      server.once("error", () => done(false));
      server.listen(port, "0.0.0.0", () => done(true));
    });
    if (ok) {
      servers.push(server);
      return { port, server };
    }
  }
  throw new Error(`no free port from ${from}`);
}

const spec = (port: number): string => `name: {{SERVICE_NAME}}
pods:
  app:
    count: 1
    tasks:
      main:
        goal: RUNNING
        cmd: echo "$PORT_HTTP" > port && exec sleep 1000
        cpus: 0.1
        memory: 32
        ports:
          http:
            port: ${port}
`;

describe("a fixed port on the local agent", () => {
  it("waits while another program holds the port, and deploys with it once the port is free", async () => {
    const held = await holdFreePort(24000);
    const run = await start({ begin: held.port, end: held.port + 10 });
    await run.scheduler.putService({ name: "fixed", spec: spec(held.port), parameters: {} });
    const declines = run.cluster.counts.declines;
    await waitFor("two offer rounds without the port", () => run.cluster.counts.declines >= declines + 2);
    expect(run.cluster.tasks()).toEqual([]);
    expect(run.scheduler.getPlan("fixed", "deploy").status).not.toBe("COMPLETE");

    await new Promise<void>((done) => held.server.close(() => done()));
    await run.cluster.driver.revive();
    await waitFor("fixed deployed", () => run.scheduler.getPlan("fixed", "deploy").status === "COMPLETE", 30_000);
    const [t] = run.cluster.tasks();
    const got = await waitFor("port file", () => t && existsSync(join(t.sandbox, "port")) && readFileSync(join(t.sandbox, "port"), "utf8").trim());
    expect(Number(got)).toBe(held.port);
  });
});
