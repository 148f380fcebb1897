import { pino } from "pino";
import { startCorral } from "../src/app.js";
import { createAdminClient } from "../src/client/index.js";
import { resolveOptions } from "../src/config.js";
import { stopAgent } from "../src/adapters/cluster/agent/daemon.js";
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
const SPEC = `name: {{SERVICE_NAME}}\npods:\n  app:\n    count: 1\n    tasks:\n      server:\n        goal: RUNNING\n        cmd: sleep 1000\n        cpus: 0.001\n        memory: 1\n`;
const N = 500;
const dataDir = mkdtempSync("/tmp/rm-");
const corral = await startCorral(resolveOptions(["--listen", "127.0.0.1:0", "--data-dir", dataDir, "--agent-resources", "cpus:64;mem:65536"], {}), pino({ level: "silent" }));
const client = createAdminClient({ address: corral.address, defaultDeadlineMs: 60_000 });
const sleep = (d: number) => new Promise((r) => setTimeout(r, d));
const names = Array.from({ length: N }, (_, i) => `s-${i}`);
await Promise.all(names.map((name) => client.putService({ name, spec: SPEC, parameters: {} })));
const waiting = new Set(names);
while (waiting.size) { for (const n of waiting) { try { if (corral.scheduler.getPlan(n, "deploy").status === "COMPLETE") waiting.delete(n); } catch {} } await sleep(10); }
const t0 = performance.now();
const drv = corral.cluster as any;
for (const m of ["accept", "decline", "revive", "suppress"]) { const orig = drv[m].bind(drv); drv[m] = (...a: any[]) => { console.log((performance.now() - t0).toFixed(0), m, m === "accept" ? a[1].length + " ops" : ""); return orig(...a); }; }
let kills = 0; const ok = drv.kill.bind(drv); drv.kill = (...a: any[]) => { if (++kills === 1 || kills === N) console.log((performance.now() - t0).toFixed(0), "kill #" + kills); return ok(...a); };
let rpcs = 0;
const calls = Promise.all(names.map((name) => client.uninstallService({ name }).then(() => { if (++rpcs === N) console.log((performance.now() - t0).toFixed(0), "all RPCs answered"); })));
const gone = new Set(names);
while (gone.size) { for (const n of gone) { try { corral.scheduler.getService(n); } catch { gone.delete(n); if (gone.size === N - 1) console.log((performance.now() - t0).toFixed(0), "first gone"); } } await sleep(10); }
console.log((performance.now() - t0).toFixed(0), "all gone");
await calls; await corral.stop(); await stopAgent(join(dataDir, "agent"), { killTasks: true }); process.exit(0);
