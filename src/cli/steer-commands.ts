/**
 * The commands that steer a running service: `plans`, `plan NAME PLAN ACTION …` and `pod`.
 * Like commands.ts: the calls each makes and what it prints; failures are thrown.
 */
import { toJson } from "@bufbuild/protobuf";
import { ControlPlanResponseSchema, ControlPodResponseSchema, ListPlansResponseSchema, ListPodsResponseSchema, PlanSchema, PodSchema } from "../client/index.js";
import type { Pod } from "../client/index.js";
import { failIfError, planEvents, watch } from "./commands.js";
import type { CommandContext } from "./commands.js";
import { CliError, EXIT } from "./errors.js";
import { followUntilSettled } from "./plan-follow.js";
import { silentDisplay } from "./plan-watch.js";
import { podLines, runsAgain } from "./pod-watch.js";
import { json } from "./render.js";
import { PLAN_ACTIONS, POD_ACTIONS, renderPlanControl, renderPlans, renderPod, renderPodControl, renderPods } from "./steer-render.js";
import type { PlanTarget } from "./steer-render.js";

export async function plans(ctx: CommandContext, name: string): Promise<void> {
  const res = await ctx.connection.unary("ListPlans", (a, opts) => a.listPlans({ name }, opts));
  ctx.out(ctx.json ? json(ListPlansResponseSchema, res) : renderPlans(res.plans));
}

/**
 * Acts on a plan, a phase or a step (ControlPlan) and prints the plan after. Nothing changed
 * (the element already was in that state: the reference's 208) is a success too, and says so.
 * With `watch`, then follows the plan as `plan --watch` does.
 */
export async function controlPlan(
  ctx: CommandContext,
  t: PlanTarget,
  parameters: Readonly<Record<string, string>>,
  o: { readonly watch: boolean; readonly intervalMs: number },
): Promise<void> {
  const action = PLAN_ACTIONS[t.action];
  if (action === undefined) throw new CliError(`unknown plan action ${t.action}`, EXIT.INVALID);
  const request = { name: t.name, plan: t.plan, action, phase: t.phase, step: t.step, parameters: { ...parameters } };
  const res = await ctx.connection.unary("ControlPlan", (a, opts) => a.controlPlan(request, opts));
  if (!o.watch) return ctx.out(ctx.json ? json(ControlPlanResponseSchema, res) : renderPlanControl(t, res));
  if (!ctx.json) ctx.out(renderPlanControl(t, { changed: res.changed, plan: undefined }));
  const plan = await watch(ctx, t.name, t.plan, o.intervalMs);
  if (ctx.json) {
    const both = { control: toJson(ControlPlanResponseSchema, res, { alwaysEmitImplicit: true }), plan: toJson(PlanSchema, plan, { alwaysEmitImplicit: true }) };
    ctx.out(JSON.stringify(both, null, 2));
  }
  failIfError(plan);
}

/** `pod NAME list`, `pod NAME info POD`, `pod NAME restart|replace|pause|resume POD [--watch]`. */
export async function pod(ctx: CommandContext, name: string, action: string, podName: string | undefined, o: { readonly watch: boolean; readonly intervalMs: number }): Promise<void> {
  if (o.watch && !(action in POD_ACTIONS)) throw new CliError(`--watch goes with restart, replace, pause and resume (it waits for the pod to run again), not ${action}`, EXIT.INVALID);
  if (action === "list") {
    if (podName !== undefined) throw new CliError(`pod list takes no pod (got ${podName}); for one pod: corral pod ${name} info ${podName}`, EXIT.INVALID);
    const res = await ctx.connection.unary("ListPods", (a, opts) => a.listPods({ name }, opts));
    return ctx.out(ctx.json ? json(ListPodsResponseSchema, res) : renderPods(res.pods));
  }
  if (podName === undefined) throw new CliError(`pod ${action} needs a pod instance, e.g. corral pod ${name} ${action} hello-0`, EXIT.INVALID);
  if (action === "info") {
    const found = await podInfo(ctx, name, podName);
    return ctx.out(ctx.json ? json(PodSchema, found) : renderPod(found));
  }
  const podAction = POD_ACTIONS[action];
  if (podAction === undefined) throw new CliError(`unknown pod action ${action}`, EXIT.INVALID);
  const res = await ctx.connection.unary("ControlPod", (a, opts) => a.controlPod({ name, pod: podName, action: podAction }, opts));
  if (!o.watch) return ctx.out(ctx.json ? json(ControlPodResponseSchema, res) : renderPodControl(name, podName, action, res));
  if (!ctx.json) ctx.out(renderPodControl(name, podName, action, { ...res, pod: undefined }));
  const source = { fetch: () => podInfo(ctx, name, podName), settled: runsAgain(res.killed), events: planEvents(ctx, name), concerns: (e: { name: string }) => e.name === name, watchable: () => true, resumes: true };
  const after = await followUntilSettled<Pod>(source, ctx.json ? silentDisplay : podLines((line) => ctx.out(line)), { intervalMs: o.intervalMs, ...(ctx.signal ? { signal: ctx.signal } : {}) });
  if (ctx.json) {
    const both = { control: toJson(ControlPodResponseSchema, res, { alwaysEmitImplicit: true }), pod: toJson(PodSchema, after, { alwaysEmitImplicit: true }) };
    return ctx.out(JSON.stringify(both, null, 2));
  }
  ctx.out(`${name}: pod ${podName} runs again\n\n${renderPod(after)}`);
}

/** One pod of ListPods; NOT_FOUND (exit 3) naming the pods there are when it is not one of them. */
async function podInfo(ctx: CommandContext, name: string, podName: string): Promise<Pod> {
  const res = await ctx.connection.unary("ListPods", (a, opts) => a.listPods({ name }, opts));
  const found = res.pods.find((p) => p.name === podName);
  if (found !== undefined) return found;
  const there = res.pods.length === 0 ? "it has none" : `its pods: ${res.pods.map((p) => p.name).join(", ")}`;
  throw new CliError(`service ${name} has no pod ${podName}; ${there} (NOT_FOUND)`, EXIT.NOT_FOUND);
}
