/**
 * SnakeYAML (the reference's parser, a port of PyYAML) ignores indentation inside flow
 * collections, so a spec may continue one on a line indented no deeper than its parent:
 *
 *   steps:
 *     - default: [[server],
 *       [other]]
 *
 * The `yaml` package refuses that ("Flow sequence in block collection must be sufficiently
 * indented"). `indentFlowContinuations` moves such continuation lines right, past the column
 * where their outermost flow collection opened; the loader parses that text only when the
 * original fails and keeps it only when it then parses cleanly. Lines and their count never
 * change, so a later error still names the right line.
 */

interface ScanState {
  /** Open flow collections. */
  depth: number;
  /** Column continuation lines of the open flow must start at (or after). */
  flowColumn: number;
  /** Inside a quoted scalar that continues on the next line. */
  quote: "'" | '"' | undefined;
  /** Indent of a block scalar header's line, while its content lines follow. */
  blockScalar: number | undefined;
}

/** Index after the quoted scalar opened at `i` (or the line's end, leaving `state.quote` set). */
function skipQuote(line: string, i: number, state: ScanState): number {
  const q = state.quote!;
  for (let j = i; j < line.length; j++) {
    if (q === '"' && line[j] === "\\") {
      j++;
      continue;
    }
    if (line[j] !== q) continue;
    if (q === "'" && line[j + 1] === "'") {
      j++;
      continue;
    }
    state.quote = undefined;
    return j + 1;
  }
  return line.length;
}

/** Scans the flow content of `line` from `i`, tracking nesting and quotes. */
function scanFlow(line: string, i: number, state: ScanState): void {
  let prev = "[";
  while (i < line.length && state.depth > 0) {
    if (state.quote !== undefined) {
      i = skipQuote(line, i, state);
      prev = "x";
      continue;
    }
    const c = line[i]!;
    if (c === "#" && (i === 0 || /\s/.test(line[i - 1]!))) return;
    if ((c === "'" || c === '"') && /[[{,:\s]/.test(prev)) state.quote = c;
    else if (c === "[" || c === "{") state.depth++;
    else if (c === "]" || c === "}") state.depth--;
    if (!/\s/.test(c)) prev = c;
    i++;
  }
}

/** Scans block content of `line` from `i` for the start of a flow collection or block scalar. */
function scanBlock(line: string, i: number, indent: number, state: ScanState): void {
  let nodeStart = true;
  while (i < line.length) {
    if (state.quote !== undefined) {
      i = skipQuote(line, i, state);
      nodeStart = false;
      continue;
    }
    const c = line[i]!;
    const next = line[i + 1] ?? " ";
    if (c === " " || c === "\t") {
      i++;
      continue;
    }
    if (c === "#") return;
    if (nodeStart && (c === "[" || c === "{")) {
      state.depth = 1;
      state.flowColumn = i + 1;
      scanFlow(line, i + 1, state);
      return;
    }
    if (nodeStart && (c === "|" || c === ">")) {
      state.blockScalar = indent;
      return;
    }
    if (nodeStart && (c === "-" || c === "?") && /\s/.test(next)) {
      i += 1;
      continue;
    }
    if (nodeStart && (c === "&" || c === "!")) {
      while (i < line.length && !/\s/.test(line[i]!)) i++;
      continue;
    }
    if (nodeStart && (c === "'" || c === '"')) {
      state.quote = c;
      i++;
      continue;
    }
    // A plain scalar or key: a value starts after its `: `.
    const colon = line.slice(i).search(/:(\s|$)| #/);
    if (colon === -1 || line[i + colon] === " ") return;
    i += colon + 1;
    nodeStart = true;
  }
}

/** `text` with each continuation line of a multi-line flow collection indented past its opening. */
export function indentFlowContinuations(text: string): string {
  const state: ScanState = { depth: 0, flowColumn: 0, quote: undefined, blockScalar: undefined };
  const lines = text.split("\n");
  for (let n = 0; n < lines.length; n++) {
    let line = lines[n]!;
    const indent = line.length - line.trimStart().length;
    const blank = line.trim() === "";
    if (state.blockScalar !== undefined) {
      if (blank || indent > state.blockScalar) continue;
      state.blockScalar = undefined;
    }
    if (state.depth > 0) {
      if (!blank && indent < state.flowColumn && state.quote === undefined) {
        line = " ".repeat(state.flowColumn - indent) + line;
        lines[n] = line;
      }
      scanFlow(line, 0, state);
      continue;
    }
    scanBlock(line, 0, indent, state);
  }
  return lines.join("\n");
}
