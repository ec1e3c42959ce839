/** Markdown output for benchmark reports. */

export type Align = 'left' | 'right';

/** A markdown table whose columns are padded, so it reads well in a terminal too. */
export function markdownTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  align?: readonly Align[],
): string {
  const widths = headers.map((h, i) => Math.max(3, h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const pad = (cell: string, i: number) =>
    align?.[i] === 'right' ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0);
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => pad(c.replace(/\|/g, '\\|'), i)).join(' | ')} |`;
  const rule = `| ${widths.map((w, i) => (align?.[i] === 'right' ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w))).join(' | ')} |`;
  return [line(headers), rule, ...rows.map((row) => line(headers.map((_, i) => row[i] ?? '')))].join('\n');
}

/** `1234.5` → `"1,234.5"` with the given decimals. */
export function num(value: number, decimals = 0): string {
  return value.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

/** A ratio such as `1.07×`. */
export function ratio(value: number): string {
  return `${value.toFixed(2)}×`;
}

/** Bytes as megabytes (10^6 bytes) with two decimals, e.g. `3.14 MB`. */
export function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(2)} MB`;
}

/** `yes` / `**no**`, for a target column. */
export function met(ok: boolean): string {
  return ok ? 'yes' : '**no**';
}
