/**
 * Reuses one parsed YAML document for texts that differ from it only inside single-line scalar
 * values. A restart rebuilds every service from its template, and most services of a fleet
 * render the same template to texts that differ only where `{{SERVICE_NAME}}` went (same length
 * when the names are). Lexing and composing such a text again costs most of the rebuild; this
 * cache instead compares the text with the remembered one character by character and, when every
 * difference is provably inert (below), sets the affected scalars' values on the remembered
 * document and converts that. Anything else is a miss and the caller parses as usual, so the
 * result is always the one a fresh parse gives.
 *
 * Why a hit equals a fresh parse (`parseDocument(text, { schema: "failsafe", uniqueKeys: true })`,
 * which `loadYaml` does with `uniqueKeys: false` and a duplicate check of its own):
 * - The remembered document parsed without errors or warnings, uses no tags (tag resolution can
 *   depend on the value) and is YAML 1.2 (no merge keys from a `%YAML 1.1` directive).
 * - The texts have the same length and differ only at offsets inside the content of a plain,
 *   single- or double-quoted scalar whose value is exactly that source slice on one line (so it
 *   has no escapes, no `''`, no folding). At each such offset both characters are `a-z`/`0-9`,
 *   or `-` or `/` when neither the first character of a plain scalar nor in a line's first three
 *   columns. None of these characters ends, starts or escapes anything in YAML (they are not
 *   whitespace, line breaks, quotes, `\`, `:`, `#`, flow indicators, nor — at a plain scalar's
 *   start — an indicator, nor part of a `---` document marker), so the lexer and the
 *   composer take the same path through both texts: the same nodes, ranges, anchors and aliases,
 *   and each changed scalar's value is the new text's slice. The failsafe schema resolves every
 *   untagged scalar to a string whatever its value.
 * - The one check that compares values, unique keys, is redone for every mapping with a changed
 *   key; a duplicate is a miss, so the fresh parse reports it.
 */
import type { Document, Node, YAMLMap } from "yaml";
import { Scalar, isMap, isNode, isScalar, visit } from "yaml";

/** A scalar whose value is the source slice [start, end). */
interface Verbatim {
  readonly node: Scalar;
  readonly start: number;
  readonly end: number;
  /** Plain scalar: its first character may only change between `a-z0-9`. */
  readonly plain: boolean;
  /** Column of `start`: the first three columns may only change between `a-z0-9` (`---`). */
  column: number;
  /** The value in the remembered text. */
  readonly original: string;
  /** The mapping whose key this scalar is. */
  readonly keyOf: YAMLMap | undefined;
}

/** The text between two verbatim scalars (or before the first, after the last). */
interface Gap {
  readonly start: number;
  readonly text: string;
}

interface Entry {
  readonly text: string;
  readonly doc: Document;
  /** Sorted by start; the ranges do not overlap. */
  readonly scalars: readonly Verbatim[];
  /** gaps[i] precedes scalars[i]; the last one follows the last scalar. */
  readonly gaps: readonly Gap[];
  /** Indices of scalars that changed in some earlier call, sorted; only grows. */
  hot: number[];
  /** The text around the hot scalars: gaps[i] precedes scalars[hot[i]]. One compare each. */
  hotGaps: Gap[];
  /** Indices into `scalars` whose node value currently differs from `original`. */
  dirty: number[];
}

const LOWER_A = 0x61;
const LOWER_Z = 0x7a;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const DASH = 0x2d;
const SLASH = 0x2f;

function isAlnum(c: number): boolean {
  return (c >= LOWER_A && c <= LOWER_Z) || (c >= DIGIT_0 && c <= DIGIT_9);
}

function inert(c: number, first: boolean): boolean {
  return isAlnum(c) || (!first && (c === DASH || c === SLASH));
}

/** The scalars of `doc` whose value is their own one-line source slice; undefined if `doc` is unfit. */
function verbatimScalars(text: string, doc: Document): Verbatim[] | undefined {
  if (doc.errors.length > 0 || doc.warnings.length > 0) return undefined;
  if (doc.directives?.yaml.version !== "1.2") return undefined;
  const out: Verbatim[] = [];
  let fit = true;
  visit(doc, (key, node, path) => {
    if (!isNode(node)) return undefined;
    if ((node as Node).tag !== undefined) {
      fit = false;
      return visit.BREAK;
    }
    if (!isScalar(node) || typeof node.value !== "string" || !node.range) return undefined;
    const [from, to] = node.range;
    let start: number;
    let end: number;
    if (node.type === Scalar.PLAIN) [start, end] = [from, to];
    else if (node.type === Scalar.QUOTE_SINGLE || node.type === Scalar.QUOTE_DOUBLE) [start, end] = [from + 1, to - 1];
    else return undefined;
    const source = text.slice(start, end);
    if (source !== node.value || source.includes("\n") || source.includes("\r")) return undefined;
    const parent = path.at(-2);
    const keyOf = key === "key" ? (isMap(parent) ? parent : undefined) : undefined;
    // A key outside a mapping cannot be checked for duplicates: leave it out (changes there miss).
    if (key === "key" && keyOf === undefined) return undefined;
    out.push({ node, start, end, plain: node.type === Scalar.PLAIN, column: 0, original: node.value, keyOf });
    return undefined;
  });
  if (!fit) return undefined;
  out.sort((a, b) => a.start - b.start);
  for (let i = 1; i < out.length; i++) if (out[i]!.start < out[i - 1]!.end) return undefined;
  // Columns in one forward sweep: `lastIndexOf` per scalar is quadratic on a long flow line.
  let lineStart = 0;
  let nextBreak = text.indexOf("\n");
  for (const s of out) {
    while (nextBreak !== -1 && nextBreak < s.start) {
      lineStart = nextBreak + 1;
      nextBreak = text.indexOf("\n", lineStart);
    }
    s.column = s.start - lineStart;
  }
  return out;
}

/** Whether every character where `text` differs from `s.original` may differ (module comment). */
function inertChanges(s: Verbatim, text: string): boolean {
  const { original, start } = s;
  for (let i = 0; i < original.length; i++) {
    const a = original.charCodeAt(i);
    const b = text.charCodeAt(start + i);
    if (a === b) continue;
    const first = (s.plain && i === 0) || s.column + i < 3;
    if (!inert(a, first) || !inert(b, first)) return false;
  }
  return true;
}

/**
 * The scalars (indices) whose text differs in `text`, when every difference is inert; undefined
 * when a gap differs or a change is not inert. `among` are the scalars compared (all when
 * undefined); `gaps[i]` is the text before the i-th of them, the last one after the last.
 */
function changedScalars(
  text: string,
  scalars: readonly Verbatim[],
  among: readonly number[] | undefined,
  gaps: readonly Gap[],
): number[] | undefined {
  const count = among ? among.length : scalars.length;
  const changed: number[] = [];
  for (let k = 0; k <= count; k++) {
    const gap = gaps[k]!;
    // slice + === compares natively; startsWith(x, position) goes character by character.
    if (text.slice(gap.start, gap.start + gap.text.length) !== gap.text) return undefined;
    if (k === count) break;
    const index = among ? among[k]! : k;
    const s = scalars[index]!;
    if (text.slice(s.start, s.end) === s.original) continue;
    if (!inertChanges(s, text)) return undefined;
    changed.push(index);
  }
  return changed;
}

function gapsOf(text: string, scalars: readonly Verbatim[]): Gap[] {
  const gaps: Gap[] = [];
  let at = 0;
  for (const s of scalars) {
    gaps.push({ start: at, text: text.slice(at, s.start) });
    at = s.end;
  }
  gaps.push({ start: at, text: text.slice(at) });
  return gaps;
}

/**
 * Lets texts of one family (e.g. one template and its parameters, rendered for many service
 * names of one length) share a parsed YAML document; see `YamlDocCache`. Results are the same
 * with and without it.
 */
export interface SpecReuse {
  readonly cache: YamlDocCache;
  readonly family: string;
}

/**
 * Bounded by entries and by the remembered texts' total length (a document takes ~12× its text
 * on the heap: 1 MiB of text ≈ 13 MB), least recently used out first.
 */
export class YamlDocCache {
  private readonly entries = new Map<string, Entry | null>();
  private chars = 0;

  constructor(
    private readonly maxEntries = 64,
    private readonly maxChars = 1024 * 1024,
  ) {}

  /**
   * The remembered document of `family`, its values set to those `text` parses to, when that is
   * provably what `text` parses to (see the module comment); undefined otherwise. The document is
   * shared: valid until the next call, and only to be read (e.g. `toJS`).
   */
  documentFor(family: string, text: string): Document | undefined {
    const entry = this.entries.get(family);
    if (!entry || entry.text.length !== text.length) return undefined;
    this.touch(family, entry);
    const { scalars, gaps } = entry;
    const touched: number[] = [];
    if (text !== entry.text) {
      // Usually only the scalars that changed before change again: compare the text around
      // them in a few long runs. Otherwise, every gap and scalar one by one.
      const quick = changedScalars(text, scalars, entry.hot, entry.hotGaps);
      const changed = quick ?? changedScalars(text, scalars, undefined, gaps);
      if (changed === undefined) return undefined;
      touched.push(...changed);
      if (quick === undefined) {
        entry.hot = [...new Set([...entry.hot, ...changed])].sort((a, b) => a - b);
        entry.hotGaps = gapsOf(entry.text, entry.hot.map((i) => scalars[i]!));
      }
    }
    for (const i of entry.dirty) {
      const s = scalars[i]!;
      s.node.value = s.original;
    }
    for (const i of touched) {
      const s = scalars[i]!;
      s.node.value = text.slice(s.start, s.end);
    }
    entry.dirty = touched;
    // Each mapping with a changed key is checked once, with a Set: not every key against all.
    const maps = new Set<YAMLMap>();
    for (const i of touched) {
      const { keyOf } = scalars[i]!;
      if (keyOf) maps.add(keyOf);
    }
    for (const map of maps) {
      const seen = new Set<unknown>();
      for (const p of map.items) {
        if (!isScalar(p.key)) continue;
        if (seen.has(p.key.value)) return undefined;
        seen.add(p.key.value);
      }
    }
    return entry.doc;
  }

  /** Remembers `doc`, parsed from `text`, for `family` (replacing what was there). */
  remember(family: string, text: string, doc: Document): void {
    this.forget(family);
    const scalars = text.length <= this.maxChars ? verbatimScalars(text, doc) : undefined;
    const entry = scalars
      ? { text, doc, scalars, gaps: gapsOf(text, scalars), hot: [], hotGaps: [{ start: 0, text }], dirty: [] }
      : null;
    this.entries.set(family, entry);
    this.chars += entry?.text.length ?? 0;
    while (this.entries.size > this.maxEntries || this.chars > this.maxChars) {
      this.forget(this.entries.keys().next().value as string);
    }
  }

  private forget(family: string): void {
    const entry = this.entries.get(family);
    if (entry) this.chars -= entry.text.length;
    this.entries.delete(family);
  }

  /** Whether `family` is remembered (as a document, or as unfit for reuse). */
  has(family: string): boolean {
    return this.entries.has(family);
  }

  private touch(family: string, entry: Entry): void {
    this.entries.delete(family);
    this.entries.set(family, entry);
  }
}
