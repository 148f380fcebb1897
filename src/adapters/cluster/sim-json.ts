/**
 * Canonical JSON for the simulated cluster: the text that identifies a resource shape or an
 * ExecutorInfo, and the frozen copies the cluster keeps instead of the caller's objects.
 * `canonical(v)` is exactly `JSON.stringify` with object keys sorted and undefined fields
 * dropped; `frozenCopy(v)` is exactly `deepFreeze(JSON.parse(canonical(v)))`, built directly.
 */

/** Integer-like keys come first, in numeric order, as on any object JSON.stringify walks. */
function sortedKeys(o: object): string[] {
  const keys = Object.keys(o);
  let n = 0;
  while (n < keys.length && isIndex(keys[n]!)) n++;
  if (n === 0) return keys.length < 2 ? keys : keys.sort();
  return [...keys.slice(0, n), ...keys.slice(n).sort()];
}

const INDEX_KEY = /^(?:0|[1-9]\d*)$/;

function isIndex(key: string): boolean {
  const c = key.charCodeAt(0);
  return c >= 48 && c <= 57 && INDEX_KEY.test(key) && Number(key) < 4294967295;
}

function hasToJSON(v: object): boolean {
  return typeof (v as { toJSON?: unknown }).toJSON === "function";
}

/** The reference definition, for values with `toJSON`. */
function slowCanonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v)
            .filter(([, x]) => x !== undefined)
            .sort(([a], [b]) => (a < b ? -1 : 1)),
        )
      : v,
  );
}

/**
 * A plain copy of `v` with every object's keys in canonical order, for JSON.stringify to print
 * (it already drops undefined and functions, and prints -0, NaN and holes as JSON does).
 */
function sortedCopy(v: unknown): unknown {
  if (typeof v !== "object" || v === null) return v;
  if (hasToJSON(v)) return parsed(slowCanonical(v));
  if (Array.isArray(v)) {
    const out = new Array<unknown>(v.length);
    for (let i = 0; i < v.length; i++) out[i] = sortedCopy(v[i]);
    return out;
  }
  const out: Record<string, unknown> = {};
  for (const k of sortedKeys(v)) {
    const c = sortedCopy((v as Record<string, unknown>)[k]);
    if (k === "__proto__") Object.defineProperty(out, k, { value: c, enumerable: true });
    else out[k] = c;
  }
  return out;
}

/** JSON.parse, except that "no text" (a value JSON leaves out) stays undefined. */
function parsed(text: string | undefined): unknown {
  return text === undefined ? undefined : (JSON.parse(text) as unknown);
}

/** Stable JSON: object keys sorted, undefined fields dropped. The result is a flat string. */
export function canonical(value: unknown): string {
  return JSON.stringify(sortedCopy(value));
}

/** Freezes `value` and everything reachable from it, so callers cannot mutate shared state. */
export function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/**
 * A deep-frozen copy of `v` equal to `JSON.parse(canonical(v))` (sorted keys, undefined
 * dropped, -0 and NaN as JSON has them, but ±Infinity kept); strings are shared, not re-created.
 */
export function frozenCopy(v: unknown): unknown {
  switch (typeof v) {
    case "string":
    case "boolean":
      return v;
    case "number":
      // -0 + 0 is 0. Infinity is kept (an unlimited TaskInfo.limits): JSON would make it null.
      return Number.isNaN(v) ? null : v + 0;
    case "object": {
      if (v === null) return null;
      if (hasToJSON(v)) return deepFreeze(parsed(canonical(v)));
      if (Array.isArray(v)) {
        const out = new Array<unknown>(v.length); // exact size, like JSON.parse's arrays
        for (let i = 0; i < v.length; i++) out[i] = frozenCopy(v[i]) ?? null;
        return Object.freeze(out);
      }
      const out: Record<string, unknown> = {};
      for (const k of sortedKeys(v)) {
        const c = frozenCopy((v as Record<string, unknown>)[k]);
        if (c === undefined) continue;
        if (k === "__proto__") Object.defineProperty(out, k, { value: c, enumerable: true });
        else out[k] = c;
      }
      return Object.freeze(out);
    }
    default:
      return undefined;
  }
}
