/**
 * Placement (issue 13 item 11): offer-evaluation cost per offer with 0, 1 and 3 placement
 * constraints, 1,000 agents each offering once (1,000 offers). One service whose `world` pod
 * type has 500 instances running on every other agent; the decision core places world-500.
 * No offer has room for it, so every offer is looked at (the worst case: a step that waits):
 *   0   every offer evaluated for resources
 *   1   hostname:UNIQUE — half the agents refused by placement, the rest evaluated
 *   3   hostname:UNIQUE, zone:GROUP_BY:3, rack:MAX_PER:20
 * Per offer = (decision with 1,000 offers − the same decision with 1 offer) / 999, p50 of the
 * runs, so building the plans and the placement index from the task records is not counted in
 * it (it is shown apart: the decision with 1 offer). The filter → score pass alone
 * (PodPlacement.rank over the 1,000 offers) is shown beside. Last column: the same decision
 * when every agent has room, so it ends at the first offer placement allows (UNIQUE alone judges
 * offers as they are tried; GROUP_BY and MAX_PER rank all of them first). Printed, never asserted.
 * Usage: npx tsx bench/placement-eval.ts [runs]   (default 200, after 50 warm-up runs)
 */
import type { Offer } from "../src/domain/cluster.js";
import { LABEL_TARGET_CONFIG } from "../src/domain/cluster.js";
import { placeLabels } from "../src/domain/offer/agent-place.js";
import { PodPlacement, placedInstances } from "../src/domain/offer/placement.js";
import { LABEL_INDEX, LABEL_RESOURCE_SET, LABEL_TASK_TYPE } from "../src/domain/offer/task-info.js";
import { decideService } from "../src/domain/service/decide.js";
import type { ServiceState } from "../src/domain/service/model.js";
import type { StoredTask } from "../src/domain/service/task-record.js";
import { ids, serviceState, spec } from "../test/fixtures/service-state.js";
import { machine, ms, summarize, table } from "./stats.js";

const RUNS = Number(process.argv[2] ?? "200");
const WARMUP = 50;
const AGENTS = 1000;
const PLACED = 500;

const CASES: readonly { constraints: number; placement: string }[] = [
  { constraints: 0, placement: "" },
  { constraints: 1, placement: "hostname:UNIQUE" },
  { constraints: 3, placement: "hostname:UNIQUE,zone:GROUP_BY:3,rack:MAX_PER:20" },
];

/** Agent i: hostname agent-i, zone z(i mod 3), rack r(i mod 50); 0.1 cpus free (world wants 0.2), or 4 when `roomy`. */
function offerOf(i: number, roomy = false): Offer {
  return {
    id: `o${i}`,
    frameworkId: "fw-1",
    agentId: `a${i}`,
    hostname: `agent-${i}`,
    attributes: { zone: `z${i % 3}`, rack: `r${i % 50}` },
    resources: [
      { name: "cpus", type: "SCALAR", scalar: roomy ? 4 : 0.1 },
      { name: "mem", type: "SCALAR", scalar: 4096 },
      { name: "disk", type: "SCALAR", scalar: 10_000 },
      { name: "ports", type: "RANGES", ranges: [{ begin: 10_000, end: 10_100 }] },
    ],
  };
}

/** world-i RUNNING on agent 2i, as its launch would have recorded it. */
function placedRecord(i: number): [string, StoredTask] {
  const name = `world-${i}-server`;
  const labels = {
    [LABEL_TARGET_CONFIG]: "cfg-1",
    [LABEL_TASK_TYPE]: "world",
    [LABEL_INDEX]: String(i),
    [LABEL_RESOURCE_SET]: "server-resource-set",
    ...placeLabels(offerOf(2 * i)),
  };
  const taskId = `hw__${name}__${i}`;
  const info = { name, taskId, agentId: `a${2 * i}`, resources: [], command: { value: "x", environment: {} }, labels };
  return [name, { info, confirmed: true, status: { taskId, state: "TASK_RUNNING", source: "SOURCE_EXECUTOR", timestampMs: 0 } }];
}

function stateWith(placement: string): ServiceState {
  const s = spec(`
name: hw
pods:
  world:
    count: ${PLACED + 1}
    placement: '${placement}'
    tasks:
      server: { goal: RUNNING, cmd: world, cpus: 0.2, memory: 512 }
`);
  const tasks = new Map(Array.from({ length: PLACED }, (_, i) => placedRecord(i)));
  return serviceState(s, { tasks });
}

function timeRuns(fn: () => void): number[] {
  for (let i = 0; i < WARMUP; i++) fn();
  const out: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    fn();
    out.push(performance.now() - started);
  }
  return out;
}

const offers = Array.from({ length: AGENTS }, (_, i) => offerOf(i));
const roomy = Array.from({ length: AGENTS }, (_, i) => offerOf(i, true));
console.log(machine());
console.log(`${AGENTS} agents, one offer each; world-${PLACED} to place beside ${PLACED} running instances; ${RUNS} runs after ${WARMUP} warm-up`);
const rows: string[][] = [["constraints", "decision, 1 offer p50", "decision, 1,000 offers p50", "per offer", "filter+score alone, per offer", "refused by placement", "step message", "decision, 1,000 roomy offers p50"]];
for (const c of CASES) {
  const state = stateWith(c.placement);
  let message = "";
  const one = summarize(timeRuns(() => void decideService(state, offers.slice(-1), 0, ids())));
  const all = summarize(
    timeRuns(() => {
      message = decideService(state, offers, 0, ids()).unplaced[0]?.reason ?? "(placed)";
    }),
  );
  const pod = state.spec.pods[0]!;
  let refused = 0;
  let rank = "-";
  if (pod.placement) {
    const placement = new PodPlacement(pod.placement, placedInstances(state.tasks.values(), "world"));
    refused = AGENTS - placement.rank(offers, `world-${PLACED}`).order.length;
    rank = `${((summarize(timeRuns(() => void placement.rank(offers, `world-${PLACED}`))).p50 / AGENTS) * 1000).toFixed(2)} µs`;
  }
  const fits = summarize(timeRuns(() => void decideService(state, roomy, 0, ids())));
  const perOffer = ((all.p50 - one.p50) / (AGENTS - 1)) * 1000;
  const shown = message.length > 90 ? `${message.slice(0, 87)}...` : message;
  rows.push([String(c.constraints), ms(one.p50), ms(all.p50), `${perOffer.toFixed(2)} µs`, rank, String(refused), shown, ms(fits.p50)]);
}
console.log(table(rows));
