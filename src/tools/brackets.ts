/**
 * Bracket matching for tool output that nests blocks and quotes strings
 * (JSON, nft listings): brackets inside double-quoted strings (with
 * backslash escapes) do not count.
 */

/**
 * Index of the bracket that closes the one at `start`, or -1 when the text
 * ends first (the output was cut). `open`/`close` list the bracket kinds.
 */
export function closingBracket(text: string, start: number, open = '{', close = '}'): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (open.includes(c)) depth++;
    else if (close.includes(c) && --depth === 0) return i;
  }
  return -1;
}
