/**
 * The small services the kill -9 run puts: one long-running task; one with a persistent
 * volume; one with a short-lived (FINISH) task before a long-running one.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./scheduler.js";

export type SpecKind = "simple" | "volume" | "short-lived";

export const SPEC_KINDS: readonly SpecKind[] = ["simple", "volume", "short-lived"];

const VOLUME = `# kill -9 run: a long-running task writing to a persistent volume.
name: {{SERVICE_NAME}}
pods:
  data:
    count: 1
    tasks:
      server:
        goal: RUNNING
        cmd: echo started >> data-path/log && sleep 1000
        cpus: 0.05
        memory: 32
        volume:
          path: data-path
          type: ROOT
          size: 8
`;

const SHORT_LIVED = `# kill -9 run: a task that runs to completion, then a long-running one.
name: {{SERVICE_NAME}}
pods:
  job:
    count: 1
    tasks:
      run:
        goal: FINISH
        cmd: echo done
        cpus: 0.05
        memory: 32
  web:
    count: 1
    tasks:
      server:
        goal: RUNNING
        cmd: sleep 1000
        cpus: 0.05
        memory: 32
`;

export function specText(kind: SpecKind): string {
  switch (kind) {
    case "simple":
      return readFileSync(join(ROOT, "examples/simple.yml"), "utf8");
    case "volume":
      return VOLUME;
    case "short-lived":
      return SHORT_LIVED;
  }
}

/**
 * A service whose task takes 8 s to stop (it traps SIGTERM): its removal is still under way
 * when the leader is killed right after the uninstall was acknowledged (the failover e2e test).
 */
export const SLOW_STOP = `# failover: a task that takes a while to stop.
name: {{SERVICE_NAME}}
pods:
  slow:
    count: 1
    tasks:
      server:
        goal: RUNNING
        cmd: |
          trap 'sleep 8; exit 0' TERM
          while true; do sleep 1; done
        cpus: 0.05
        memory: 32
        kill-grace-period: 30
`;
