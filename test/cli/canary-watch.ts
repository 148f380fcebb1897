/**
 * What the plan-watch tests across a restart or a failover share: a deploy whose second phase
 * (a canary) waits for `continue`, so a watching CLI is mid-plan when its scheduler goes away,
 * and a bounded wait for a condition.
 */

/** hello×1 (serial), then world×2 as a canary: `corral plan NAME deploy continue world` releases it. */
export const CANARY_SPEC = `name: {{SERVICE_NAME}}
pods:
  hello:
    count: 1
    tasks:
      server:
        goal: RUNNING
        cmd: sleep 1000
        cpus: 0.1
        memory: 32
  world:
    count: 2
    tasks:
      server:
        goal: RUNNING
        cmd: sleep 1000
        cpus: 0.1
        memory: 32
plans:
  deploy:
    strategy: serial
    phases:
      hello:
        strategy: serial
        pod: hello
      world:
        strategy: canary
        pod: world
`;

/** Calls `probe` every `everyMs` until it returns true, at most `tries` times. */
export async function until(probe: () => Promise<boolean> | boolean, what: string, tries = 300, everyMs = 100): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await probe()) return;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  throw new Error(`timed out waiting until ${what}`);
}
