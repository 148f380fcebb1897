/**
 * Chaos knobs for tests (agent started with `chaos: true`): `POST /__chaos` with any subset of
 * {"split_records","stall","duplicate_updates","redirect","unavailable","drop_streams","lose_agent"}
 * answers 200 with the knobs now in force. `drop_streams` and `lose_agent` are one-shot actions.
 */
import { JsonReader, type Json, type JsonObject } from "../mesos/json-codec.js";

export interface ChaosKnobs {
  readonly splitRecords: boolean;
  readonly stall: boolean;
  readonly duplicateUpdates: boolean;
  /** Every scheduler call answered 307 to `//<host:port>/api/v1/scheduler`. */
  readonly redirect: string | null;
  /** Every scheduler call answered 503 "Master has not finished recovery". */
  readonly unavailable: boolean;
}

export const NO_CHAOS: ChaosKnobs = { splitRecords: false, stall: false, duplicateUpdates: false, redirect: null, unavailable: false };

/** What a chaos request asks for; one-shot actions apart. */
export interface ChaosRequest {
  readonly knobs: ChaosKnobs;
  readonly dropStreams: boolean;
  readonly loseAgent?: string;
}

/** Reads a `/__chaos` body over the current knobs; throws MesosDecodeError on a bad field. */
export function readChaosRequest(json: Json, current: ChaosKnobs): ChaosRequest {
  const r = new JsonReader(json, "$");
  r.object();
  const redirect = r.at("redirect");
  const target = redirect.optString();
  if (target !== undefined && !/^[^/\s]+:\d+$/.test(target)) redirect.fail("expected host:port");
  const loseAgent = r.at("lose_agent").optString();
  const has = (k: string): boolean => Object.hasOwn(r.object(), k);
  return {
    knobs: {
      splitRecords: r.at("split_records").optBoolean() ?? current.splitRecords,
      stall: r.at("stall").optBoolean() ?? current.stall,
      duplicateUpdates: r.at("duplicate_updates").optBoolean() ?? current.duplicateUpdates,
      // `"redirect": null` turns it off; absent leaves it.
      redirect: has("redirect") ? (target ?? null) : current.redirect,
      unavailable: r.at("unavailable").optBoolean() ?? current.unavailable,
    },
    dropStreams: r.at("drop_streams").optBoolean() ?? false,
    ...(loseAgent !== undefined ? { loseAgent } : {}),
  };
}

export function encodeKnobs(k: ChaosKnobs): JsonObject {
  return {
    split_records: k.splitRecords,
    stall: k.stall,
    duplicate_updates: k.duplicateUpdates,
    redirect: k.redirect,
    unavailable: k.unavailable,
  };
}
