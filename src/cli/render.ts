/**
 * What the CLI prints: aligned human-readable tables by default, the messages' canonical
 * proto3 JSON (enum names, every field present) with `--json`.
 */
import { toJsonString } from "@bufbuild/protobuf";
import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { PutOutcome, ServiceState, Status, Strategy, UninstallEventKind } from "../client/index.js";
import type { Plan, PlanSummary, PutServiceResponse, Service, ServiceChange, Step, Task, UninstallEvent } from "../client/index.js";

/** proto3 JSON of a message: pretty for documents, one line for streams (`pretty: false`). */
export function json<D extends DescMessage>(schema: D, message: MessageShape<D>, pretty = true): string {
  return toJsonString(schema, message, { alwaysEmitImplicit: true, ...(pretty ? { prettySpaces: 2 } : {}) });
}

const enumName = (names: Record<number, string>, value: number): string => names[value] ?? String(value);
export const statusName = (s: Status): string => enumName(Status, s);
export const stateName = (s: ServiceState): string => enumName(ServiceState, s);
export const outcomeName = (o: PutOutcome): string => enumName(PutOutcome, o);
export const kindName = (k: UninstallEventKind): string => enumName(UninstallEventKind, k);
const strategyName = (s: Strategy): string => enumName(Strategy, s);

const time = (t: Timestamp | undefined): string => (t === undefined ? "-" : timestampDate(t).toISOString());

/** Left-aligned columns two spaces apart; the last column is not padded. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? "").length)));
  return all.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join("  ").trimEnd()).join("\n");
}

const summary = (p: PlanSummary): string => `${p.name} ${statusName(p.status)} ${p.stepsComplete}/${p.stepsTotal}`;

export function renderServices(services: readonly Service[]): string {
  if (services.length === 0) return "no services";
  return table(
    ["NAME", "STATE", "GEN", "PLANS"],
    services.map((s) => [s.name, stateName(s.state), String(s.generation), s.plans.map(summary).join(", ")]),
  );
}

/** One row per task, in the scheduler's order (by task name); "-" for what is not known. */
export function renderTasks(tasks: readonly Task[]): string {
  if (tasks.length === 0) return "no tasks";
  const known = (value: string): string => (value === "" ? "-" : value);
  return table(
    ["TASK", "POD", "STATE", "PID", "AGENT", "SANDBOX", "MESSAGE"],
    tasks.map((t) => [t.name, `${t.podType}-${t.podIndex}`, known(t.state), t.pid === 0 ? "-" : String(t.pid), known(t.agentId), known(t.sandbox), t.message]),
  );
}

export function renderService(s: Service): string {
  const fields: [string, string][] = [
    ["name", s.name],
    ["state", stateName(s.state)],
    ["generation", String(s.generation)],
    ["config id", s.configId],
    ["created", time(s.createdTime)],
    ["updated", time(s.updatedTime)],
  ];
  if (s.error !== "") fields.push(["error", s.error]);
  const head = fields.map(([k, v]) => `${`${k}:`.padEnd(12)}${v}`).join("\n");
  const plans = table(["PLAN", "STATUS", "STEPS"], s.plans.map((p) => [p.name, statusName(p.status), `${p.stepsComplete}/${p.stepsTotal}`]));
  return `${head}\n\n${plans}`;
}

export function renderPlan(plan: Plan): string {
  const rows = plan.phases.flatMap((phase) => phase.steps.map((step) => [phase.name, step.name, statusName(step.status), step.message]));
  const lines = [`plan ${plan.name}: ${statusName(plan.status)} (${strategyName(plan.strategy)})`];
  for (const error of plan.errors) lines.push(`error: ${error}`);
  lines.push("", rows.length === 0 ? "no steps" : table(["PHASE", "STEP", "STATUS", "MESSAGE"], rows));
  return lines.join("\n");
}

/** `NAME: OUTCOME (generation, state)`, then for an update what changed and its plan in one line. */
export function renderPut(name: string, res: PutServiceResponse): string {
  const s = res.service;
  const state = s === undefined ? "" : ` (generation ${s.generation}, ${stateName(s.state)})`;
  const lines = [`${name}: ${outcomeName(res.outcome)}${state}`];
  if (res.change !== undefined) {
    lines.push(...renderChange(res.change));
    if (res.change.plan !== undefined) lines.push(`  ${planLine(res.change.plan)}`);
  }
  return lines.join("\n");
}

/**
 * What a dry run would do: the outcome and the change, then the plan it would run in full, or
 * the reasons the change would be refused. Always says that nothing was stored.
 */
export function renderDryRun(name: string, res: PutServiceResponse): string {
  const s = res.service;
  const generation = s === undefined ? "" : `, generation ${s.generation}`;
  const violations = res.change?.violations ?? [];
  if (violations.length > 0) {
    return [`${name}: dry run: the change would be refused (nothing was stored${generation}):`, ...violations.map((v) => `  ${v.field}: ${v.reason}`)].join("\n");
  }
  const lines = [`${name}: dry run: would be ${outcomeName(res.outcome)} (nothing was stored${generation})`];
  if (res.change !== undefined) lines.push(...renderChange(res.change));
  const plan = res.change?.plan;
  if (plan !== undefined) lines.push("", `would run ${renderPlan(plan)}`);
  return lines.join("\n");
}

const instances = (names: readonly string[]): string => (names.length === 0 ? "none" : names.join(", "));

/** The pod instances a change relaunches, adds and decommissions, one line each. */
function renderChange(change: ServiceChange): string[] {
  return [
    `  relaunched:     ${instances(change.relaunched)}`,
    `  added:          ${instances(change.added)}`,
    `  decommissioned: ${instances(change.decommissioned)}`,
  ];
}

/** `plan deploy IN_PROGRESS: 2 of 5 steps to run (3 already COMPLETE)`. */
function planLine(plan: Plan): string {
  const steps = plan.phases.flatMap((p) => p.steps);
  const done = steps.filter((s) => s.status === Status.COMPLETE).length;
  const already = done > 0 ? ` (${done} already COMPLETE)` : "";
  return `plan ${plan.name} ${statusName(plan.status)}: ${steps.length - done} of ${steps.length} steps to run${already}`;
}

export const renderWarnings = (res: PutServiceResponse): string[] => res.warnings.map((w) => `warning: ${w.field}: ${w.message}`);

/** Steps in ERROR, with their messages, and the plan's errors: why a plan failed. */
export function renderPlanFailure(plan: Plan): string {
  const failed: Step[] = plan.phases.flatMap((p) => p.steps.filter((s) => s.status === Status.ERROR));
  const lines = [`plan ${plan.name} is in ERROR`];
  for (const e of plan.errors) lines.push(`  ${e}`);
  for (const s of failed) lines.push(`  step ${s.name}: ${s.message || "(no message)"}`);
  return lines.join("\n");
}

/** One line per event: `#SEQ TIME NAME KIND done/total [message] [leftovers: …]`. */
export function renderUninstallEvent(e: UninstallEvent): string {
  const parts = [`#${e.sequence}`, time(e.time), e.name, kindName(e.kind), `${e.stepsComplete}/${e.stepsTotal}`];
  if (e.message !== "") parts.push(e.message);
  if (e.leftovers.length > 0) parts.push(`leftovers: ${e.leftovers.join(", ")}`);
  return parts.join(" ");
}
