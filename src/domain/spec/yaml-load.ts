/**
 * Rendered spec text → a tree of Maps (source key order), lists and strings, refusing what the
 * spec format has no use for and what could exhaust the process: text over
 * `SPEC_LIMITS.maxSpecChars`, collections nested deeper than `SPEC_LIMITS.maxYamlDepth` (found
 * while parsing, before yaml's recursive composer and `toJS` run), alias expansion over
 * `SPEC_LIMITS.maxAliasCount`, more than one document, a `%YAML` version other than 1.1 or 1.2,
 * tags other than `!!str`, `!!map`, `!!seq` and `!` (`!!float 1`, `!!binary`, custom tags would
 * change a value's meaning where the failsafe schema keeps the text), merge keys (`<<`, which
 * the failsafe schema would keep as an ordinary key), duplicate keys in the maps the reference
 * reads write-once (elsewhere the last value wins, with a warning, as Jackson reads it), NUL anywhere and control
 * characters in keys (they become names and paths).
 */
import type { CST, Document, Node } from "yaml";
import { Composer, Lexer, LineCounter, Parser, isMap, isPair, isScalar, isSeq } from "yaml";
import { SchedulerError, abbreviate } from "../errors.js";
import type { FieldViolation } from "../errors.js";
import type { SpecWarning } from "./types.js";
import { CONTROL, describe } from "./fields.js";
import { SPEC_LIMITS } from "./limits.js";
import { indentFlowContinuations } from "./yaml-flow-indent.js";
import type { SpecReuse } from "./yaml-cache.js";

const FIELD = "spec";
const CORE = "tag:yaml.org,2002:";

function where(lines: LineCounter, offset: number | undefined): string {
  if (offset === undefined) return "";
  const { line, col } = lines.linePos(offset);
  return ` (line ${line}, column ${col})`;
}

/** The CST of `text`, refusing nesting beyond the limit as soon as the parser reaches it. */
function* guardedTokens(text: string, lines: LineCounter): Generator<CST.Token> {
  const parser = new Parser(lines.addNewLine);
  lines.addNewLine(0);
  // The parser's stack holds the document, each open collection and the token being read.
  const maxStack = SPEC_LIMITS.maxYamlDepth + 2;
  for (const lexeme of new Lexer().lex(text)) {
    yield* parser.next(lexeme);
    if (parser.stack.length > maxStack) {
      const limit = SPEC_LIMITS.maxYamlDepth;
      throw SchedulerError.invalid([{ field: FIELD, reason: `YAML nested deeper than ${limit}${where(lines, parser.offset)} (SPEC_LIMITS.maxYamlDepth)` }]);
    }
  }
  yield* parser.end();
}

/** What `parseDocument` gives, from the guarded parse; errors also for a second document. */
function composeOne(text: string, lines: LineCounter): { doc: Document; errors: FieldViolation[] } {
  // Duplicate keys are found by checkNodes, in linear time.
  const composer = new Composer({ schema: "failsafe", uniqueKeys: false });
  let doc: Document | undefined;
  const errors: FieldViolation[] = [];
  for (const next of composer.compose(guardedTokens(text, lines), true, text.length)) {
    if (doc === undefined) {
      doc = next;
      continue;
    }
    const reason = `YAML syntax error: multiple documents; a spec is one document${where(lines, next.range[0])}`;
    errors.push({ field: FIELD, reason });
    break;
  }
  // `compose(…, forceDoc = true)` always yields a document, if only an empty one.
  const first = doc as Document;
  for (const e of first.errors) {
    errors.unshift({ field: FIELD, reason: `YAML syntax error: ${abbreviate(e.message, 200)}${where(lines, e.pos[0])}` });
  }
  return { doc: first, errors };
}

/**
 * composeOne, and when that fails, composeOne of the text with flow continuation lines
 * re-indented (SnakeYAML ignores indentation inside flow collections); the retry is kept only
 * when it parses cleanly, else the first errors stand.
 */
function composeLenient(text: string, lines: LineCounter): { doc: Document; errors: FieldViolation[]; lines: LineCounter; relaxed: boolean } {
  const first = composeOne(text, lines);
  if (first.errors.length === 0) return { ...first, lines, relaxed: false };
  const indented = indentFlowContinuations(text);
  if (indented === text) return { ...first, lines, relaxed: false };
  const retryLines = new LineCounter();
  const retry = composeOne(indented, retryLines);
  if (retry.errors.length > 0) return { ...first, lines, relaxed: false };
  return { ...retry, lines: retryLines, relaxed: true };
}

function tagName(tag: string): string {
  return tag.startsWith(CORE) ? `!!${tag.slice(CORE.length)}` : abbreviate(tag);
}

/** Whether explicit `tag` is one the failsafe schema reads as plain text, map or list. */
function plainTag(node: Node, tag: string): boolean {
  if (tag === "!") return true;
  if (isScalar(node)) return tag === `${CORE}str` && typeof node.value === "string";
  return isMap(node) ? tag === `${CORE}map` && node.constructor.name === "YAMLMap" : isSeq(node) && tag === `${CORE}seq` && node.constructor.name === "YAMLSeq";
}

/**
 * Named maps the reference reads into a WriteOnceLinkedHashMap, which refuses a duplicate key;
 * in every other mapping Jackson keeps the last value of a duplicate key.
 */
const WRITE_ONCE = new Set(["pods", "plans", "phases", "tasks", "resource-sets", "ports", "volumes", "configs", "rlimits"]);

interface Visit {
  readonly node: unknown;
  readonly key: boolean;
  /** Field path of the node (`spec.pods.hello`), for duplicate-key messages. */
  readonly path: string;
  /** The key this node is the value of. */
  readonly under?: string;
}

function keyText(node: unknown): string {
  return isScalar(node) ? String(node.value) : "?";
}

/** Duplicate keys of `map`: refused in a write-once map, else warned about (the last wins). */
function checkDuplicates(map: Node, visit: Visit, lines: LineCounter, problems: FieldViolation[], warnings: SpecWarning[]): void {
  if (!isMap(map)) return;
  // yaml's own `uniqueKeys` check compares each key with every earlier one: O(n²) a map.
  const seen = new Set<unknown>();
  for (const pair of map.items) {
    if (!isScalar(pair.key)) continue;
    if (seen.has(pair.key.value)) {
      const name = describe(String(pair.key.value));
      const at = where(lines, pair.key.range?.[0]);
      if (visit.under !== undefined && WRITE_ONCE.has(visit.under)) {
        problems.push({ field: visit.path, reason: `duplicate ${visit.under} entry ${name}${at}` });
      } else {
        warnings.push({ field: `${visit.path}.${String(pair.key.value)}`, message: `duplicate key ${name}${at}: the last value is used, as the reference's parser does` });
      }
    }
    seen.add(pair.key.value);
  }
}

/** Every node of the document once (aliases are not followed: their source is visited). */
function checkNodes(doc: Document, lines: LineCounter, warnings: SpecWarning[]): FieldViolation[] {
  const problems: FieldViolation[] = [];
  const problem = (node: Node, reason: string) =>
    problems.push({ field: FIELD, reason: `${reason}${where(lines, node.range?.[0])}` });
  const stack: Visit[] = [{ node: doc.contents, key: false, path: FIELD }];
  while (stack.length > 0) {
    const visit = stack.pop()!;
    const { node, key, path } = visit;
    if (isPair(node)) {
      const name = keyText(node.key);
      stack.push({ node: node.value, key: false, path: `${path}.${name}`, under: name }, { node: node.key, key: true, path });
      continue;
    }
    if (!isScalar(node) && !isMap(node) && !isSeq(node)) continue;
    if (node.tag !== undefined && !plainTag(node, node.tag)) {
      problem(node, `YAML tag ${tagName(node.tag)} is not supported; write the value without a tag`);
      continue;
    }
    checkDuplicates(node, visit, lines, problems, warnings);
    if (isMap(node)) {
      for (let i = node.items.length - 1; i >= 0; i--) stack.push({ node: node.items[i], key: false, path });
      continue;
    }
    if (isSeq(node)) {
      for (let i = node.items.length - 1; i >= 0; i--) stack.push({ node: node.items[i], key: false, path: `${path}[${i}]` });
      continue;
    }
    const value = typeof node.value === "string" ? node.value : "";
    if (value.includes("\0")) problem(node, "NUL is not allowed in a spec");
    else if (key && CONTROL.test(value)) problem(node, `key '${describe(value)}' contains a control character`);
    else if (key && value === "<<") problem(node, "YAML merge keys (<<) are not supported; write the keys out");
  }
  return problems;
}

function toTree(doc: Document): unknown {
  try {
    return doc.toJS({ mapAsMap: true, maxAliasCount: SPEC_LIMITS.maxAliasCount });
  } catch (err) {
    // yaml signals alias expansion beyond maxAliasCount with a ReferenceError.
    if (!(err instanceof ReferenceError)) throw err;
    const limit = SPEC_LIMITS.maxAliasCount;
    throw SchedulerError.invalid([{ field: FIELD, reason: `too many YAML alias expansions (SPEC_LIMITS.maxAliasCount is ${limit})` }]);
  }
}

/**
 * Loads rendered spec text; `warnings` receives yaml's warnings that do not make it unusable.
 * @throws SchedulerError invalid_argument (field `spec`, with line and column where known).
 */
export function loadYaml(text: string, warnings: SpecWarning[], reuse?: SpecReuse): unknown {
  if (text.length > SPEC_LIMITS.maxSpecChars) {
    const limit = SPEC_LIMITS.maxSpecChars;
    throw SchedulerError.invalid([{ field: FIELD, reason: `exceeds SPEC_LIMITS.maxSpecChars (at most ${limit}, got ${text.length})` }]);
  }
  let lines = new LineCounter();
  const nul = text.indexOf("\0");
  if (nul !== -1) {
    lines.addNewLine(0);
    for (let i = text.indexOf("\n"); i !== -1 && i < nul; i = text.indexOf("\n", i + 1)) lines.addNewLine(i + 1);
    throw SchedulerError.invalid([{ field: FIELD, reason: `NUL is not allowed in a spec${where(lines, nul)}` }]);
  }
  // A remembered document passed every check below, and so does this text: it differs only by
  // letters, digits, '-' and '/' inside plain one-line scalars (see YamlDocCache).
  const reused = reuse?.cache.documentFor(reuse.family, text);
  if (reused) return toTree(reused);
  const { doc, errors, lines: at, relaxed } = composeLenient(text, lines);
  if (errors.length > 0) throw SchedulerError.invalid(errors);
  lines = at;
  for (const w of doc.warnings) {
    const message = `${abbreviate(w.message, 200)}${where(lines, w.pos[0])}`;
    if (w.code === "BAD_DIRECTIVE" && w.message.startsWith("Unsupported YAML version")) {
      errors.push({ field: FIELD, reason: `${message}; a spec is YAML 1.1 or 1.2` });
    } else if (w.code !== "TAG_RESOLVE_FAILED" && w.code !== "BAD_COLLECTION_TYPE") {
      // Tags are refused by checkNodes, with a reason of their own.
      warnings.push({ field: FIELD, message });
    }
  }
  const duplicates: SpecWarning[] = [];
  errors.push(...checkNodes(doc, lines, duplicates));
  if (errors.length > 0) throw SchedulerError.invalid(errors);
  warnings.push(...duplicates);
  const tree = toTree(doc);
  // A reused document skips the checks that would repeat these warnings.
  // The cache compares texts with the one remembered: a re-indented text is not `text`.
  if (reuse && !reuse.cache.has(reuse.family) && duplicates.length === 0 && !relaxed) reuse.cache.remember(reuse.family, text, doc);
  return tree;
}
