import { describe, expect, it } from "vitest";
import { mesosFixture } from "../../../../test/fixtures/mesos/load.js";
import type { Json } from "./json-codec.js";
import { decodeEvent, decodeEventText, type MesosEvent, type MesosOffer } from "./json-codec-events.js";

const FID = "b3d1f6a2-7c41-4e0b-9a57-2f1d8c3e6a10-0000";
const NOW_MS = 1_800_000_000_000;

function decodeOk(json: Json): MesosEvent {
  const d = decodeEvent(json, NOW_MS);
  if (!d.ok) throw d.error;
  return d.value;
}

const reservation = (resourceId: string, more: Record<string, string> = {}) => ({
  type: "DYNAMIC" as const,
  role: "svc-role",
  principal: "multi-svc-principal",
  labels: { resource_id: resourceId, ...more },
});

describe("decodeEvent on the fixtures", () => {
  it.each<[string, MesosEvent]>([
    ["event-subscribed", { kind: "subscribed", frameworkId: FID, heartbeatIntervalS: 15, masterId: "b3d1f6a2-7c41-4e0b-9a57-2f1d8c3e6a10" }],
    ["event-heartbeat", { kind: "heartbeat" }],
    ["event-rescind", { kind: "rescind", offerId: "MID-O117" }],
    ["event-error", { kind: "error", message: "Framework failed over" }],
    ["event-error-removed", { kind: "error", message: "Framework has been removed" }],
    ["event-message", { kind: "message", agentId: "MID-S3", executorId: "exec-7f2a", data: "cG9uZw==" }],
    ["event-failure", { kind: "failure", agentId: "MID-S3", executorId: "kafka__broker-0__exec-7f2a", status: 256 }],
    ["event-inverse-offers", { kind: "ignored", type: "INVERSE_OFFERS" }],
    [
      "event-update-operation-status",
      {
        kind: "operationStatus",
        status: { operationId: "reserve-kafka-0-a1", state: "OPERATION_FINISHED", agentId: "MID-S3", uuid: "no18a1pJQ4KxwPDh0sO0pQ==" },
      },
    ],
    [
      "event-update-running",
      {
        kind: "update",
        status: {
          taskId: "kafka__broker-0-server__1c9e",
          state: "TASK_RUNNING",
          source: "SOURCE_EXECUTOR",
          agentId: "MID-S3",
          executorId: "kafka__broker-0__exec-7f2a",
          timestampMs: 1718000000123,
          healthy: true,
          uuid: "Xwwqnjt9TB6KZA2bLn8cMw==",
        },
      },
    ],
    [
      "event-update-readiness",
      {
        kind: "update",
        status: {
          taskId: "kafka__broker-0-server__1c9e",
          state: "TASK_RUNNING",
          source: "SOURCE_EXECUTOR",
          reason: "REASON_TASK_CHECK_STATUS_UPDATED",
          agentId: "MID-S3",
          executorId: "kafka__broker-0__exec-7f2a",
          timestampMs: 1718000005500,
          uuid: "no18a1pJQ4KxwPDh0sO0pQ==",
          checkStatus: { exitCode: 0 },
          labels: { readiness_check_passed: "true" },
        },
      },
    ],
    [
      "event-update-reconciliation",
      {
        kind: "update",
        status: {
          taskId: "kafka__broker-0-server__1c9e",
          state: "TASK_GONE",
          source: "SOURCE_MASTER",
          reason: "REASON_RECONCILIATION",
          message: "Reconciliation: Task is unknown to the agent",
          agentId: "MID-S3",
          timestampMs: 1718000100000,
        },
      },
    ],
  ])("%s", (name, expected) => {
    expect(decodeOk(mesosFixture(name))).toStrictEqual(expected);
  });

  it("reads the OFFERS example of the docs, wrapped as the wire has it (§17.11)", () => {
    const offer: MesosOffer = {
      id: "MID-O117",
      frameworkId: "FID",
      agentId: "MID-S3",
      hostname: "agent-3.example",
      allocationRole: "svc-role",
      resources: [
        { name: "cpus", type: "SCALAR", scalar: 7.5, allocationRole: "svc-role" },
        { name: "mem", type: "SCALAR", scalar: 28672, allocationRole: "svc-role" },
        { name: "ports", type: "RANGES", ranges: [{ begin: 31000, end: 32000 }], allocationRole: "svc-role" },
      ],
      attributes: { zone: "us-east-1a" },
      executorIds: [],
      setResources: [],
    };
    expect(decodeOk(mesosFixture("event-offers-doc"))).toStrictEqual({ kind: "offers", offers: [offer], rejected: [] });
  });

  it("reads reserved resources with labels, volumes, disk sources, every attribute type and the fault domain", () => {
    const offer: MesosOffer = {
      id: "MID-O118",
      frameworkId: FID,
      agentId: "MID-S3",
      hostname: "agent-3.example",
      allocationRole: "svc-role",
      domain: { region: "us-east-1", zone: "us-east-1a" },
      resources: [
        { name: "cpus", type: "SCALAR", scalar: 1, allocationRole: "svc-role", reservations: [reservation("3c1f0a7e-...-9b", { namespace: "kafka-prod" })] },
        { name: "ports", type: "RANGES", ranges: [{ begin: 31405, end: 31405 }], allocationRole: "svc-role", reservations: [reservation("77a0...")] },
        {
          name: "disk",
          type: "SCALAR",
          scalar: 4096,
          allocationRole: "svc-role",
          reservations: [reservation("d41e...")],
          disk: {
            persistence: { id: "kafka-prod-broker-0-data", principal: "multi-svc-principal" },
            volume: { containerPath: "data", mode: "RW" },
          },
        },
        {
          name: "disk",
          type: "SCALAR",
          scalar: 102400,
          allocationRole: "svc-role",
          reservations: [
            { type: "STATIC", role: "svc-role", labels: {} },
            { type: "DYNAMIC", role: "svc-role/kafka", principal: "multi-svc-principal", labels: { resource_id: "m-disk-2" } },
          ],
          diskSource: { type: "MOUNT", root: "/mnt/disk2" },
        },
        { name: "disk", type: "SCALAR", scalar: 2048, allocationRole: "svc-role", diskSource: { type: "PATH", root: "/var/lib/mesos/path-disk" } },
        { name: "mem", type: "SCALAR", scalar: 1024, allocationRole: "svc-role" },
      ],
      setResources: [{ name: "gpu-models", items: ["a100", "h100"], allocationRole: "svc-role" }],
      attributes: { rack: "rack-7", weight: "2.5", level: "10", slots: "[1-4,8-8]", features: "{ssd,avx2}" },
      executorIds: ["kafka-prod__broker-0__exec-7f2a"],
    };
    expect(decodeOk(mesosFixture("event-offers-reserved"))).toStrictEqual({ kind: "offers", offers: [offer], rejected: [] });
  });
});

describe("UPDATE states and reasons", () => {
  const updates = mesosFixture("event-updates-every-state") as Json[];

  it("reads every task state, acknowledging only agent and executor updates (uuid)", () => {
    const statuses = updates.map((u) => decodeOk(u)).map((e) => (e.kind === "update" ? e.status : undefined));
    expect(statuses.map((s) => s?.state)).toStrictEqual([
      "TASK_STAGING", "TASK_STARTING", "TASK_RUNNING", "TASK_KILLING", "TASK_FINISHED", "TASK_FAILED", "TASK_KILLED",
      "TASK_ERROR", "TASK_LOST", "TASK_DROPPED", "TASK_UNREACHABLE", "TASK_GONE", "TASK_GONE_BY_OPERATOR", "TASK_UNKNOWN",
    ]);
    expect(statuses.map((s) => s?.uuid !== undefined)).toStrictEqual(statuses.map((s) => s?.source !== "SOURCE_MASTER"));
  });

  it("reads every reason", () => {
    const events = mesosFixture("event-updates-every-reason") as Json[];
    const reasons = events.map((u) => decodeOk(u)).map((e) => (e.kind === "update" ? e.status.reason : undefined));
    const sent = events.map((e) => (((e as { update: { status: { reason: string } } }).update.status.reason)));
    expect(reasons).toStrictEqual(sent);
    expect(new Set(sent).size).toBe(35);
  });

  it("drops an unknown reason or source as stout does for optional enums, and keeps the update", () => {
    const e = decodeOk({ type: "UPDATE", update: { status: { task_id: { value: "t" }, state: "TASK_FAILED", reason: "REASON_FROM_THE_FUTURE", source: "SOURCE_X", timestamp: 1 } } });
    expect(e).toStrictEqual({ kind: "update", status: { taskId: "t", state: "TASK_FAILED", timestampMs: 1000 } });
  });

  it("takes the time of receipt for an update without a timestamp, and a check without an exit code as empty", () => {
    const e = decodeOk({ type: "UPDATE", update: { status: { task_id: { value: "t" }, state: "TASK_RUNNING", check_status: { type: "HTTP", http: {} } } } });
    expect(e).toStrictEqual({ kind: "update", status: { taskId: "t", state: "TASK_RUNNING", checkStatus: {}, timestampMs: NOW_MS } });
  });
});

describe("stout's lenient input", () => {
  it("accepts numeric strings, Infinity, nulls as unset, and ignores unknown and camelCase keys", () => {
    const e = decodeOk({
      type: "OFFERS",
      futureField: 1,
      offers: {
        offers: [
          {
            id: { value: "o" },
            framework_id: { value: "f", extra: true },
            agent_id: { value: "a" },
            agentId: { value: "ignored" },
            hostname: "h",
            url: null,
            resources: [
              { name: "ports", type: "RANGES", ranges: { range: [{ begin: "31000", end: "31002" }] } },
              { name: "mem", type: "SCALAR", scalar: { value: "Infinity" }, role: "*" },
              { name: "cpus", type: "SCALAR", scalar: { value: "0.5" } },
            ],
            executor_ids: null,
          },
        ],
      },
    });
    expect(e).toStrictEqual({
      kind: "offers",
      offers: [
        {
          id: "o",
          frameworkId: "f",
          agentId: "a",
          hostname: "h",
          resources: [
            { name: "ports", type: "RANGES", ranges: [{ begin: 31000, end: 31002 }] },
            { name: "mem", type: "SCALAR", scalar: Infinity },
            { name: "cpus", type: "SCALAR", scalar: 0.5 },
          ],
          executorIds: [],
          setResources: [],
        },
      ],
      rejected: [],
    });
  });

  it("returns an unknown event type as ignored rather than failing", () => {
    expect(decodeOk({ type: "SOMETHING_NEW", something_new: {} })).toStrictEqual({ kind: "ignored", type: "SOMETHING_NEW" });
    expect(decodeOk({ type: "RESCIND_INVERSE_OFFER", rescind_inverse_offer: { inverse_offer_id: { value: "i" } } })).toStrictEqual({
      kind: "ignored",
      type: "RESCIND_INVERSE_OFFER",
    });
  });
});

describe("bad input gives a decode error naming the path", () => {
  const offer = (patch: Record<string, Json>): Json => ({
    type: "OFFERS",
    offers: { offers: [{ id: { value: "o" }, framework_id: { value: "f" }, agent_id: { value: "a" }, hostname: "h", ...patch }] },
  });
  const update = (status: Record<string, Json>): Json => ({ type: "UPDATE", update: { status: { task_id: { value: "t" }, state: "TASK_RUNNING", ...status } } });

  it.each<[string, Json, string, RegExp]>([
    ["a non-object event", [], "$", /expected an object, got an array/],
    ["no type", {}, "$.type", /missing/],
    ["a numeric type", { type: 4 }, "$.type", /expected a string, got number 4/],
    ["SUBSCRIBED without its body", { type: "SUBSCRIBED" }, "$.subscribed", /missing/],
    ["SUBSCRIBED without framework_id", { type: "SUBSCRIBED", subscribed: {} }, "$.subscribed.framework_id", /missing/],
    ["an id given as a bare string", { type: "RESCIND", rescind: { offer_id: "o" } }, "$.rescind.offer_id", /expected an object, got string/],
    ["an id wrapper without value", { type: "RESCIND", rescind: { offer_id: {} } }, "$.rescind.offer_id.value", /missing/],
    ["offers not wrapped (doc erratum §17.11)", { type: "OFFERS", offers: [] }, "$.offers", /expected an object, got an array/],
    ["an offer without hostname", offer({ hostname: null }), "$.offers.offers[0].hostname", /missing/],
    ["an offer without agent_id", offer({ agent_id: null }), "$.offers.offers[0].agent_id", /missing/],
    ["resources not an array", offer({ resources: {} }), "$.offers.offers[0].resources", /expected an array/],
    ["an unknown resource type", offer({ resources: [{ name: "cpus", type: "SCALER", scalar: { value: 1 } }] }), "$.offers.offers[0].resources[0].type", /unknown enum value "SCALER"/],
    ["a scalar without value", offer({ resources: [{ name: "cpus", type: "SCALAR", scalar: {} }] }), "$.offers.offers[0].resources[0].scalar.value", /missing/],
    ["a scalar of the wrong type", offer({ resources: [{ name: "cpus", type: "SCALAR", scalar: { value: true } }] }), "$.offers.offers[0].resources[0].scalar.value", /expected a number, got boolean/],
    ["a range with a fractional begin", offer({ resources: [{ name: "ports", type: "RANGES", ranges: { range: [{ begin: 1.5, end: 2 }] } }] }), "$.offers.offers[0].resources[0].ranges.range[0].begin", /expected an integer/],
    ["a range ending before it begins", offer({ resources: [{ name: "ports", type: "RANGES", ranges: { range: [{ begin: 5, end: 2 }] } }] }), "$.offers.offers[0].resources[0].ranges.range[0]", /before begin/],
    ["an unknown reservation type", offer({ resources: [{ name: "cpus", type: "SCALAR", scalar: { value: 1 }, reservations: [{ type: "DYNAMO", role: "r" }] }] }), "$.offers.offers[0].resources[0].reservations[0].type", /unknown enum/],
    ["a label without key", offer({ resources: [{ name: "cpus", type: "SCALAR", scalar: { value: 1 }, reservations: [{ type: "DYNAMIC", role: "r", labels: { labels: [{ value: "v" }] } }] }] }), "$.offers.offers[0].resources[0].reservations[0].labels.labels[0].key", /missing/],
    ["a volume without mode", offer({ resources: [{ name: "disk", type: "SCALAR", scalar: { value: 1 }, disk: { volume: { container_path: "d" } } }] }), "$.offers.offers[0].resources[0].disk.volume.mode", /missing/],
    ["an unknown disk source", offer({ resources: [{ name: "disk", type: "SCALAR", scalar: { value: 1 }, disk: { source: { type: "TAPE" } } }] }), "$.offers.offers[0].resources[0].disk.source.type", /unknown enum/],
    ["an unknown attribute type", offer({ attributes: [{ name: "x", type: "BLOB" }] }), "$.offers.offers[0].attributes[0].type", /unknown enum/],
    ["a TEXT attribute without text", offer({ attributes: [{ name: "x", type: "TEXT" }] }), "$.offers.offers[0].attributes[0].text", /missing/],
    ["an update without task_id", { type: "UPDATE", update: { status: { state: "TASK_RUNNING" } } }, "$.update.status.task_id", /missing/],
    ["an unknown task state", update({ state: "TASK_SLEEPING" }), "$.update.status.state", /unknown enum value "TASK_SLEEPING"/],
    ["a uuid that is not base64", update({ uuid: "jhadf73jhakdlfha723adf!" }), "$.update.status.uuid", /expected base64/],
    ["healthy as a string", update({ healthy: "true" }), "$.update.status.healthy", /expected a boolean/],
    ["the documented `bytes` key is ignored, but data of the wrong type fails", { type: "MESSAGE", message: { agent_id: { value: "a" }, executor_id: { value: "e" }, data: 5 } }, "$.message.data", /expected a string/],
    ["ERROR in the documented flat shape (§17.1)", { type: "ERROR", message: "boom" }, "$.error", /missing/],
    ["an operation status uuid as a bare string (§17.10)", { type: "UPDATE_OPERATION_STATUS", update_operation_status: { status: { state: "OPERATION_FINISHED", uuid: "no18a1pJQ4KxwPDh0sO0pQ==" } } }, "$.update_operation_status.status.uuid", /expected an object/],
    ["an unknown operation state", { type: "UPDATE_OPERATION_STATUS", update_operation_status: { status: { state: "OPERATION_DONE" } } }, "$.update_operation_status.status.state", /unknown enum/],
    ["a fault domain without zone", offer({ domain: { fault_domain: { region: { name: "r" } } } }), "$.offers.offers[0].domain.fault_domain.zone", /missing/],
  ])("%s", (_name, json, path, reason) => {
    const d = decodeEvent(json, NOW_MS);
    // A bad offer is rejected alone; anything else fails the whole event.
    const error = d.ok ? (d.value.kind === "offers" && d.value.offers.length === 0 ? d.value.rejected[0]?.error : undefined) : d.error;
    expect(error?.path).toBe(path);
    expect(error?.message).toMatch(reason);
    expect(error?.code).toBe("invalid_argument");
    expect(error?.violations).toStrictEqual([{ field: path, reason: error?.message.slice(path.length + 2) }]);
  });

  it("rejects a bad offer alone, with its id when it has one, and keeps the good ones", () => {
    const good = { id: { value: "o1" }, framework_id: { value: "f" }, agent_id: { value: "a" }, hostname: "h" };
    const d = decodeEvent(
      { type: "OFFERS", offers: { offers: [{ ...good, id: { value: "o0" }, hostname: 7 }, good, { hostname: "h" }] } },
      NOW_MS,
    );
    if (!d.ok || d.value.kind !== "offers") throw new Error("expected an OFFERS event");
    expect(d.value.offers.map((o) => o.id)).toStrictEqual(["o1"]);
    expect(d.value.rejected.map((r) => [r.offerId, r.error.path])).toStrictEqual([
      ["o0", "$.offers.offers[0].hostname"],
      [undefined, "$.offers.offers[2].id"],
    ]);
  });

  it("reports text that is not JSON at $", () => {
    const d = decodeEventText('{"type":', NOW_MS);
    expect(d.ok ? undefined : d.error.path).toBe("$");
    expect(decodeEventText('{"type":"HEARTBEAT"}', NOW_MS)).toStrictEqual({ ok: true, value: { kind: "heartbeat" } });
  });
});
