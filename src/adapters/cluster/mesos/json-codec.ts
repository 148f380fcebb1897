/**
 * The Mesos v1 JSON rules (mesos-v1-api.md §1.2), shared by the call encoders and the event
 * decoders: stout's mapping, not proto3 canonical JSON. Field names are snake_case, enums are
 * their names, IDs stay `{"value": …}` wrappers, bytes are base64, numbers may arrive as numeric
 * strings. Decoding validates shape, names the JSON path of the first fault and ignores unknown
 * fields, as a Mesos client must.
 */
import { SchedulerError } from "../../../domain/errors.js";

/** A JSON value as `JSON.parse` returns it. */
export type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json };

/** A JSON object, the shape of every Mesos message. */
export type JsonObject = { readonly [key: string]: Json };

/** Mesos JSON that does not have the shape the protos require; `path` names the field (`$.offers.offers[0].id`). */
export class MesosDecodeError extends SchedulerError {
  readonly path: string;

  constructor(path: string, reason: string) {
    super("invalid_argument", `${path}: ${reason}`, { violations: [{ field: path, reason }] });
    this.path = path;
  }
}

/** A decoded value, or the decode error; decoding never throws. */
export type Decoded<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: MesosDecodeError };

/** Runs a throwing decoder and returns its outcome; anything but a MesosDecodeError is a bug and is rethrown. */
export function decoded<T>(decode: () => T): Decoded<T> {
  try {
    return { ok: true, value: decode() };
  } catch (err) {
    if (err instanceof MesosDecodeError) return { ok: false, error: err };
    throw err;
  }
}

/** Scalars as Mesos keeps them: rounded to 0.001 (`convertToFixed`, half away from zero). */
export function roundScalar(value: number): number {
  if (!Number.isFinite(value)) return value;
  return (Math.sign(value) * Math.round(Math.abs(value) * 1000)) / 1000;
}

/** A double as stout writes it: infinities as strings, since JSON has no literal for them. */
export function encodeDouble(value: number): number | string {
  if (value === Infinity) return "Infinity";
  if (value === -Infinity) return "-Infinity";
  return value;
}

/** An ID message. */
export function idOf(value: string): JsonObject {
  return { value };
}

/** A `Labels` message; insertion order is kept (Mesos compares labels as a multiset). */
export function encodeLabels(labels: Readonly<Record<string, string>>): JsonObject {
  return { labels: Object.entries(labels).map(([key, value]) => ({ key, value })) };
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * A cursor on one JSON value and its path. Accessors return undefined for an absent or `null`
 * field (stout: null = unset) and throw a MesosDecodeError for a present field of the wrong shape.
 */
export class JsonReader {
  constructor(
    readonly value: Json | undefined,
    readonly path: string,
  ) {}

  fail(reason: string): never {
    throw new MesosDecodeError(this.path, reason);
  }

  /** The object at this path (required). */
  object(): JsonObject {
    const v = this.value;
    if (v === undefined || v === null) this.fail("missing");
    if (typeof v !== "object" || Array.isArray(v)) this.fail(`expected an object, got ${kindOf(v)}`);
    return v as JsonObject;
  }

  /** A field of this object. */
  at(key: string): JsonReader {
    const v = this.object()[key];
    return new JsonReader(v === null ? undefined : v, `${this.path}.${key}`);
  }

  present(): boolean {
    return this.value !== undefined && this.value !== null;
  }

  /** The elements of an optional repeated field (absent = empty). */
  list(): JsonReader[] {
    if (!this.present()) return [];
    if (!Array.isArray(this.value)) this.fail(`expected an array, got ${kindOf(this.value)}`);
    return (this.value as readonly Json[]).map((v, i) => new JsonReader(v, `${this.path}[${i}]`));
  }

  string(): string {
    if (!this.present()) this.fail("missing");
    if (typeof this.value !== "string") this.fail(`expected a string, got ${kindOf(this.value)}`);
    return this.value;
  }

  optString(): string | undefined {
    return this.present() ? this.string() : undefined;
  }

  /** An integer: a number or a numeric string (stout accepts both). */
  integer(): number {
    const v = this.value;
    const n = typeof v === "string" && /^-?\d+$/.test(v) ? Number(v) : v;
    if (!this.present()) this.fail("missing");
    if (typeof n !== "number" || !Number.isInteger(n)) this.fail(`expected an integer, got ${kindOf(v)}`);
    return n;
  }

  optInteger(): number | undefined {
    return this.present() ? this.integer() : undefined;
  }

  /** A double: a number, or "Infinity" / "-Infinity", or a numeric string. */
  double(): number {
    const v = this.value;
    if (!this.present()) this.fail("missing");
    if (typeof v === "number") return v;
    if (v === "Infinity") return Infinity;
    if (v === "-Infinity") return -Infinity;
    if (typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v))) return Number(v);
    return this.fail(`expected a number, got ${kindOf(v)}`);
  }

  optDouble(): number | undefined {
    return this.present() ? this.double() : undefined;
  }

  optBoolean(): boolean | undefined {
    if (!this.present()) return undefined;
    if (typeof this.value !== "boolean") this.fail(`expected a boolean, got ${kindOf(this.value)}`);
    return this.value;
  }

  /** A required enum: an unknown name is an error. */
  enumOf<T extends string>(names: ReadonlySet<T>): T {
    const s = this.string();
    if (!names.has(s as T)) this.fail(`unknown enum value ${JSON.stringify(s.slice(0, 64))}`);
    return s as T;
  }

  /** An optional enum: an unknown name leaves it unset, as stout does (§1.2); a non-string is still an error. */
  optEnumOf<T extends string>(names: ReadonlySet<T>): T | undefined {
    const s = this.optString();
    return s !== undefined && names.has(s as T) ? (s as T) : undefined;
  }

  /** An ID message's value (required). */
  id(): string {
    return this.at("value").string();
  }

  optId(): string | undefined {
    return this.present() ? this.id() : undefined;
  }

  /** A bytes field: base64 text, kept exactly as received. */
  optBytes(): string | undefined {
    const s = this.optString();
    if (s !== undefined && !BASE64.test(s)) this.fail("expected base64");
    return s;
  }

  /** A Labels message as a record; a repeated key keeps its first value. */
  labels(): Record<string, string> {
    const out: Record<string, string> = {};
    if (!this.present()) return out;
    for (const label of this.at("labels").list()) {
      const key = label.at("key").string();
      const value = label.at("value").optString() ?? "";
      // defineProperty: a "__proto__" key is data, not the prototype.
      if (!Object.hasOwn(out, key)) Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
}

function kindOf(v: Json | undefined): string {
  if (v === undefined || v === null) return "nothing";
  if (Array.isArray(v)) return "an array";
  return typeof v === "object" ? "an object" : `${typeof v} ${JSON.stringify(v).slice(0, 40)}`;
}
