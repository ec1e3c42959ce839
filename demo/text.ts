/** Plain-text helpers for the demo's terminal output. */

export type Align = 'left' | 'right';

/** A table with a header row and a dashed rule, columns padded to their widest cell. */
export function textTable(headers: string[], rows: string[][], align: Align[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => {
        const width = widths[i] ?? 0;
        return align[i] === 'right' ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** Wraps text at word boundaries so that no line exceeds `width` characters (unless one word does). */
export function wrap(text: string, width: number): string {
  const lines: string[] = [];
  let current = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (current && current.length + 1 + word.length > width) {
      lines.push(current);
      current = word;
    } else {
      current = current ? `${current} ${word}` : word;
    }
  }
  if (current) lines.push(current);
  return lines.join('\n');
}

/**
 * Virtual times, compactly: runs of evenly spaced times are shortened to their first three and last
 * ("0, 10, 20 … 230"), runs are separated by semicolons, and the unit comes once at the end.
 */
export function describeTimes(times: number[]): string {
  const runs: number[][] = [];
  let i = 0;
  while (i < times.length) {
    const run = times.slice(i, i + 2);
    const step = (run[1] ?? 0) - (run[0] ?? 0);
    let j = i + 2;
    while (j < times.length && (times[j] ?? 0) - (times[j - 1] ?? 0) === step) run.push(times[j++] ?? 0);
    runs.push(run);
    i = j;
  }
  const shorten = (run: number[]) =>
    run.length <= 4 ? run.join(', ') : `${run.slice(0, 3).join(', ')} … ${run.at(-1) ?? ''}`;
  return `${runs.map(shorten).join('; ')} ms`;
}

/** The gaps between consecutive times, smallest and largest, e.g. `{ min: 1, max: 33 }`. */
export function gaps(times: number[]): { min: number; max: number } {
  const all = times.slice(1).map((t, i) => t - (times[i] ?? t));
  return { min: Math.min(...all), max: Math.max(...all) };
}
