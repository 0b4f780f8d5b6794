/**
 * Number-shaped candidates are matched greedily (a phone followed by a year, a card followed by
 * an expiry). This drops trailing separator-delimited groups until the digit count fits, so
 * "+44 20 7946 0958 2024" still yields the phone. Returns the new end offset, or -1.
 */
export function trimToDigitCount(
  text: string,
  start: number,
  end: number,
  range: { min: number; max: number },
): number {
  let stop = end;
  for (;;) {
    const digits = countDigits(text, start, stop);
    if (digits <= range.max) return digits >= range.min ? stop : -1;
    const cut = lastSeparator(text, start, stop);
    if (cut <= start) return -1;
    stop = cut;
  }
}

export function countDigits(text: string, start: number, end: number): number {
  let n = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) n++;
  }
  return n;
}

/** Offset of the end of the last digit run that is followed by a separator (space . - / )). */
function lastSeparator(text: string, start: number, end: number): number {
  for (let i = end - 1; i > start; i--) {
    const c = text.charCodeAt(i);
    const isDigit = c >= 48 && c <= 57;
    if (!isDigit) {
      let j = i;
      while (j > start && !isDigitAt(text, j - 1)) j--;
      return j;
    }
  }
  return -1;
}

function isDigitAt(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  return c >= 48 && c <= 57;
}
