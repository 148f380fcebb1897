/**
 * retry-rule.ts: which failed call goes where — a standby's refusal to the leader it names, a
 * call that never left to the next address, any other UNAVAILABLE only for a call that may run
 * twice, nothing else anywhere.
 */
import * as grpc from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { IDEMPOTENT_METHODS, nextStep } from "../../src/client/retry-rule.js";
import { LEADER_METADATA_KEY } from "../../src/adapters/grpc/status.js";

const status = (code: grpc.status, details: string, entries: Record<string, string> = {}) => {
  const metadata = new grpc.Metadata();
  for (const [k, v] of Object.entries(entries)) metadata.set(k, v);
  return Object.assign(new Error(details), { code, details, metadata });
};

describe("nextStep", () => {
  it("a standby's UNAVAILABLE with corral-leader goes to that leader, whatever the method", () => {
    const refusal = status(grpc.status.UNAVAILABLE, "this scheduler is a standby; the leader is at b:1", { [LEADER_METADATA_KEY]: "b:1", "x-request-id": "r1" });
    expect(nextStep(refusal, "controlPod")).toEqual({ kind: "leader", address: "b:1" });
  });

  it("a call grpc-js never sent (no connection, no name, stream refused) goes to the next address, whatever the method", () => {
    for (const details of ["No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:1", "Name resolution failed for target dns:nowhere:1", "Stream refused by server"]) {
      expect(nextStep(status(grpc.status.UNAVAILABLE, details), "controlPlan")).toEqual({ kind: "next", reason: "unreached" });
    }
  });

  it("an UNAVAILABLE that may come after the call ran moves on only for a method that may run twice", () => {
    const dropped = status(grpc.status.UNAVAILABLE, "Connection dropped");
    const starting = status(grpc.status.UNAVAILABLE, "the scheduler is starting", { "x-request-id": "r1" });
    // The server's words, even when they read like grpc-js's: the server was reached.
    const fromServer = status(grpc.status.UNAVAILABLE, "No connection established to zookeeper", { "x-request-id": "r1" });
    for (const err of [dropped, starting, fromServer]) {
      expect(nextStep(err, "getPlan")).toEqual({ kind: "next", reason: "unavailable" });
      expect(nextStep(err, "putService")).toEqual({ kind: "next", reason: "unavailable" });
      for (const method of ["controlPlan", "controlPod", "deleteSecret"]) expect(nextStep(err, method)).toEqual({ kind: "fail" });
    }
  });

  it("any other failure is the answer", () => {
    for (const code of [grpc.status.DEADLINE_EXCEEDED, grpc.status.CANCELLED, grpc.status.INTERNAL, grpc.status.NOT_FOUND, grpc.status.ABORTED]) {
      expect(nextStep(status(code, "No connection established"), "getPlan")).toEqual({ kind: "fail" });
    }
    expect(nextStep(new Error("boom"), "getPlan")).toEqual({ kind: "fail" });
  });

  it("only reads, watches, PutService, UninstallService and PutSecret count as safe to repeat", () => {
    expect([...IDEMPOTENT_METHODS].filter((m) => /^(control|delete)/.test(m))).toEqual([]);
    for (const m of ["putService", "uninstallService", "putSecret", "watchUninstall", "watchPlans", "taskLog"]) expect(IDEMPOTENT_METHODS.has(m)).toBe(true);
  });
});
