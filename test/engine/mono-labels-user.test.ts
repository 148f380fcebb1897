/**
 * The user a task runs as (CommandInfo.user): its pod's `user`, else the service's
 * `scheduler.user`, else unset (the agent runs it as the framework's user).
 */
import { describe, expect, it } from "vitest";
import { createHarness } from "../harness/harness.js";

const spec = (schedulerUser: string | undefined): string => `name: {{SERVICE_NAME}}
${schedulerUser === undefined ? "" : `scheduler:\n  user: ${schedulerUser}\n`}pods:
  own:
    count: 1
    user: root
    tasks:
      server:
        goal: RUNNING
        cmd: sleep 1000
        cpus: 0.1
        memory: 64
  follows:
    count: 1
    tasks:
      server:
        goal: RUNNING
        cmd: sleep 1000
        cpus: 0.1
        memory: 64
`;

describe("task user", () => {
  it.each([
    { name: "scheduler.user set", schedulerUser: "nobody", follows: "nobody" },
    { name: "no scheduler.user", schedulerUser: undefined, follows: undefined },
  ])("$name: a pod's user wins, else the service's, else none", async ({ schedulerUser, follows }) => {
    const h = await createHarness();
    await h.scheduler.putService({ name: "svc", spec: spec(schedulerUser), parameters: {} });
    await h.deployAll(["svc"]);
    const users = Object.fromEntries(h.cluster.tasks().map((t) => [t.name, t.info.command.user]));
    expect(users).toEqual({ "own-0-server": "root", "follows-0-server": follows });
  });
});
