/**
 * Duplicate keys in JSON text, which JSON.parse hides (the last one wins): pino writes a child
 * logger's bindings and a call's fields side by side, so a key given in both appears twice.
 */

/** `path.key` of each key that appears twice in one object of `text` (one JSON value). */
export function duplicateKeys(text: string): string[] {
  const found: string[] = [];
  let i = 0;
  const ws = (): void => {
    while (/\s/.test(text[i] ?? "")) i++;
  };
  const str = (): string => {
    const start = i;
    i++; // opening quote
    while (text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (path: string): void => {
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      const seen = new Set<string>();
      for (ws(); text[i] !== "}"; ws()) {
        if (text[i] === ",") i++;
        ws();
        const key = str();
        if (seen.has(key)) found.push(`${path}${key}`);
        seen.add(key);
        ws();
        i++; // colon
        value(`${path}${key}.`);
      }
      i++;
    } else if (c === "[") {
      i++;
      for (ws(); text[i] !== "]"; ws()) {
        if (text[i] === ",") i++;
        value(`${path}[].`);
      }
      i++;
    } else if (c === '"') {
      str();
    } else {
      while (i < text.length && !/[,}\]\s]/.test(text[i]!)) i++;
    }
    if (i > text.length) throw new Error(`not JSON: ${text}`);
  };
  JSON.parse(text); // throws on anything that is not JSON, so the walk above may trust it
  value("");
  return found;
}
