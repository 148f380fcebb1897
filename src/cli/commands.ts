/**
 * What each `corral` command does, given parsed arguments: the calls it makes and what it
 * prints. Failures are thrown (RpcError, CliError) and become messages and exit codes in
 * `program.ts`.
 */
import { once } from "node:events";
import { readFile } from "node:fs/promises";
import { toJson } from "@bufbuild/protobuf";
import {
  GetPlanResponseSchema,
  GetSchedulerResponseSchema,
  SchedulerState,
  ServiceMode,
  ListServicesResponseSchema,
  GetServiceResponseSchema,
  ListTasksResponseSchema,
  PlanSchema,
  PutServiceResponseSchema,
  UninstallEventKind,
  UninstallEventSchema,
  UninstallServiceResponseSchema,
  Status,
  TaskLogFile,
} from "../client/index.js";
import type { Plan, PlanEvent, UninstallEvent, WatchPlansResponse } from "../client/index.js";
import { RECONNECT_FOR_MS } from "./connection.js";
import type { Connection } from "./connection.js";
import { CliError, EXIT } from "./errors.js";
import { followPlan } from "./plan-follow.js";
import { barDisplay, lineDisplay, silentDisplay } from "./plan-watch.js";
import {
  json,
  renderPlan,
  renderDryRun,
  renderPlanFailure,
  renderPut,
  renderService,
  renderServices,
  renderTasks,
  renderUninstallEvent,
  renderWarnings,
} from "./render.js";
import { followUninstall, uninstallBar } from "./uninstall-watch.js";
import type { UninstallDisplay } from "./uninstall-watch.js";

/** Where a command prints, and what it runs against. */
export interface CommandContext {
  readonly connection: Connection;
  readonly json: boolean;
  /** stdout is a terminal: progress is drawn as bars. */
  readonly tty: boolean;
  readonly stdout: NodeJS.WritableStream;
  out(text: string): void;
  err(text: string): void;
  /** The whole of stdin (for `put NAME -`). */
  readStdin(): Promise<string>;
  /** The whole of stdin as bytes (a secret's value). */
  readStdinBytes(): Promise<Buffer>;
  /** stdin is a terminal (someone types the value). */
  readonly stdinTty?: boolean;
  readonly signal?: AbortSignal;
}

export interface PutOptions {
  readonly parameters: Record<string, string>;
  readonly watch: boolean;
  readonly intervalMs: number;
  /** Show what the put would do; store nothing. */
  readonly dryRun: boolean;
  /** Put only if the service is at this generation (0: only if it does not exist). */
  readonly expectGeneration?: bigint;
}

export async function put(ctx: CommandContext, name: string, file: string, o: PutOptions): Promise<void> {
  const spec = await readSpec(ctx, file);
  const request = {
    name,
    spec,
    parameters: o.parameters,
    dryRun: o.dryRun,
    ...(o.expectGeneration === undefined ? {} : { expectedGeneration: o.expectGeneration }),
  };
  const res = await ctx.connection.unary("PutService", (a, opts) => a.putService(request, opts));
  if (!ctx.json) {
    ctx.out(o.dryRun ? renderDryRun(name, res) : renderPut(name, res));
    for (const w of renderWarnings(res)) ctx.err(w);
  }
  if (o.dryRun) {
    if (ctx.json) ctx.out(json(PutServiceResponseSchema, res));
    const refused = res.change?.violations.length ?? 0;
    if (refused > 0) throw new CliError(`the change to ${name} would be refused (${refused} ${refused === 1 ? "violation" : "violations"}); nothing was stored`);
    return;
  }
  if (!o.watch) {
    if (ctx.json) ctx.out(json(PutServiceResponseSchema, res));
    return;
  }
  // An update may run the spec's `update` plan rather than `deploy`.
  const plan = await watch(ctx, name, res.change?.plan?.name ?? "", o.intervalMs, res.service?.generation);
  if (ctx.json) {
    const both = { put: toJson(PutServiceResponseSchema, res, { alwaysEmitImplicit: true }), plan: toJson(PlanSchema, plan, { alwaysEmitImplicit: true }) };
    ctx.out(JSON.stringify(both, null, 2));
  }
  failIfError(plan);
}

export async function scheduler(ctx: CommandContext): Promise<void> {
  const res = await ctx.connection.unary("GetScheduler", (a, opts) => a.getScheduler({}, opts));
  if (ctx.json) return ctx.out(json(GetSchedulerResponseSchema, res));
  const state = SchedulerState[res.state] ?? String(res.state);
  ctx.out(
    // With replicas the call went to the leader: say which one it is.
    `leader:       ${ctx.connection.answeredBy}\nstate:        ${state}\nmode:         ${modeName(res.serviceMode)}\nschema:       ${res.schemaVersion || "unknown"}\n` +
      `services:     ${res.services} (${res.uninstalling} being removed)\nlast event:   ${res.lastUninstallEvent}`,
  );
}

/** `static`, as given to --mode; a scheduler older than the field sends none: `unknown`. */
function modeName(mode: ServiceMode): string {
  if (mode === ServiceMode.UNSPECIFIED) return "unknown";
  return (ServiceMode[mode] ?? String(mode)).toLowerCase();
}

export async function list(ctx: CommandContext): Promise<void> {
  const res = await ctx.connection.unary("ListServices", (a, opts) => a.listServices({}, opts));
  ctx.out(ctx.json ? json(ListServicesResponseSchema, res) : renderServices(res.services));
}

export async function get(ctx: CommandContext, name: string): Promise<void> {
  const res = await ctx.connection.unary("GetService", (a, opts) => a.getService({ name }, opts));
  if (ctx.json) return ctx.out(json(GetServiceResponseSchema, res));
  if (res.service === undefined) throw new CliError(`GetService returned no service for ${name}`);
  ctx.out(renderService(res.service));
}

export async function plan(ctx: CommandContext, name: string, planName: string, o: { readonly watch: boolean; readonly intervalMs: number }): Promise<void> {
  if (!o.watch) {
    const res = await ctx.connection.unary("GetPlan", (a, opts) => a.getPlan({ name, plan: planName }, opts));
    if (ctx.json) return ctx.out(json(GetPlanResponseSchema, res));
    if (res.plan === undefined) throw new CliError(`GetPlan returned no plan for ${name}`);
    return ctx.out(renderPlan(res.plan));
  }
  const last = await watch(ctx, name, planName, o.intervalMs);
  if (ctx.json) ctx.out(json(PlanSchema, last));
  failIfError(last);
}

export async function tasks(ctx: CommandContext, name: string): Promise<void> {
  const res = await ctx.connection.unary("ListTasks", (a, opts) => a.listTasks({ name }, opts));
  ctx.out(ctx.json ? json(ListTasksResponseSchema, res) : renderTasks(res.tasks));
}

export interface LogsOptions {
  readonly stderr: boolean;
  /** Keep printing what is written, until the task ends, its sandbox is removed, or Ctrl-C. */
  readonly follow: boolean;
  /** Start at the last N lines; the whole file when absent. */
  readonly tailLines?: number;
}

/** Writes the task's file to stdout byte for byte, as the chunks come (waiting when stdout is full). */
export async function logs(ctx: CommandContext, name: string, task: string, o: LogsOptions): Promise<void> {
  const file = o.stderr ? TaskLogFile.STDERR : TaskLogFile.STDOUT;
  const chunks = ctx.connection.stream("TaskLog", (a, opts) => a.taskLog({ name, task, file, follow: o.follow, tailLines: o.tailLines ?? 0 }, opts));
  for await (const { data } of chunks) {
    if (data.length > 0 && !ctx.stdout.write(data)) await once(ctx.stdout, "drain");
  }
}

export async function uninstall(ctx: CommandContext, name: string, o: { readonly wait: boolean }): Promise<void> {
  const res = await ctx.connection.unary("UninstallService", (a, opts) => a.uninstallService({ name }, opts));
  if (ctx.json) ctx.out(json(UninstallServiceResponseSchema, res, !o.wait));
  else ctx.out(`${name}: uninstall started`);
  if (!o.wait) return;
  // Resumes at the new leader after the last event seen (a failover is a pause).
  const events = ctx.connection.follow("WatchUninstall", (a, opts) => a.followUninstall({ names: [name] }, opts));
  const print = (format: (e: UninstallEvent) => string): UninstallDisplay => ({ update: (e) => ctx.out(format(e)), finish: () => undefined });
  const display = ctx.tty && !ctx.json ? uninstallBar(ctx.stdout) : print(ctx.json ? (e) => json(UninstallEventSchema, e, false) : renderUninstallEvent);
  const end = await followUninstall(events, name, { removal: res.service?.removalId ?? 0n, since: res.service?.updatedTime }, display);
  if (end.kind === UninstallEventKind.FORCED) {
    ctx.err(`warning: ${name} was removed by force${end.leftovers.length > 0 ? `; left behind: ${end.leftovers.join(", ")}` : ""}`);
  }
  if (!ctx.json) ctx.out(`${name}: uninstalled`);
}

export async function watchUninstall(ctx: CommandContext, names: readonly string[], after: bigint): Promise<void> {
  const events = ctx.connection.follow("WatchUninstall", (a, opts) => a.followUninstall({ names: [...names], after }, opts));
  for await (const { event } of events) {
    if (event === undefined) continue;
    ctx.out(ctx.json ? json(UninstallEventSchema, event, false) : renderUninstallEvent(event));
  }
}

/**
 * Follows a plan until it is COMPLETE or in ERROR. With `generation` (put --watch), events of
 * earlier generations are not about it, and a later generation means someone put the service
 * again: the plan being followed will never finish as such (ABORTED, exit 6).
 */
export async function watch(ctx: CommandContext, name: string, planName: string, intervalMs: number, generation?: bigint): Promise<Plan> {
  let followed = planName;
  const fetch = async (): Promise<Plan> => {
    const res = await ctx.connection.unary("GetPlan", (a, opts) => a.getPlan({ name, plan: planName }, opts));
    if (res.plan === undefined) throw new CliError(`GetPlan returned no plan for ${name}`);
    followed = res.plan.name; // "" asks for the default plan; events name it
    return res.plan;
  };
  const concerns = (e: PlanEvent): boolean => {
    if (e.name !== name || (generation !== undefined && e.generation < generation)) return false;
    if (generation !== undefined && e.generation > generation) {
      throw new CliError(`${name} was put again (generation ${e.generation}) while the CLI followed generation ${generation}; follow it with: corral plan ${name} --watch`, EXIT.ABORTED);
    }
    return e.plan === followed;
  };
  const events = planEvents(ctx, name);
  const display = ctx.json ? silentDisplay : ctx.tty ? barDisplay(ctx.stdout) : lineDisplay((line) => ctx.out(line));
  // A service's removal is told by WatchUninstall, not WatchPlans.
  const watchable = (plan: Plan): boolean => plan.name !== "uninstall";
  return followPlan({ fetch, events, concerns, watchable, resumes: true }, display, { intervalMs, reconnectForMs: RECONNECT_FOR_MS, ...(ctx.signal ? { signal: ctx.signal } : {}) });
}

/** The WatchPlans stream of one service, after a sequence number; it resumes across a change of leader by itself. */
export function planEvents(ctx: CommandContext, name: string): (after: bigint, signal: AbortSignal, resumed: () => void) => AsyncIterable<PlanEvent> {
  return (after, signal, resumed) => eventsOf(ctx.connection.follow("WatchPlans", (a, opts) => a.followPlans({ names: [name], after }, { ...opts, onResume: resumed }), signal));
}

async function* eventsOf(responses: AsyncIterable<WatchPlansResponse>): AsyncGenerator<PlanEvent> {
  for await (const { event } of responses) if (event !== undefined) yield event;
}

/** A watched plan in ERROR ends the command with exit 5, naming the failed steps. */
export function failIfError(plan: Plan): void {
  if (plan.status === Status.ERROR) throw new CliError(renderPlanFailure(plan), EXIT.PLAN_ERROR);
}

async function readSpec(ctx: CommandContext, file: string): Promise<string> {
  if (file === "-") return ctx.readStdin();
  try {
    return await readFile(file, "utf8");
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as Error).message}`);
  }
}
