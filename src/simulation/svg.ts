/**
 * A small, deterministic SVG line chart: no browser, no dependency, the same bytes for the same data
 * (every number is written with a fixed number of decimals).
 */

import { escapeXml } from '../internal/xml.js';

/** One line of a chart: a value per x position, `null` for a gap. */
export interface ChartLine {
  name: string;
  values: readonly (number | null)[];
}

/** A vertical marker (an incident, the end of the traffic). */
export interface ChartMarker {
  at: number;
  label: string;
}

export interface ChartSpec {
  title: string;
  /** The y axis's label, with its unit. */
  yLabel: string;
  /** The x position of each value, in seconds. */
  xs: readonly number[];
  lines: readonly ChartLine[];
  /** `'log'`: a log scale that also shows 0 (the line is drawn at log10(1 + y)). */
  scale: 'linear' | 'log';
  markers?: readonly ChartMarker[];
}

const WIDTH = 760;
const HEIGHT = 320;
const LEFT = 64;
const RIGHT = 190;
const TOP = 34;
const BOTTOM = 42;
const PLOT_W = WIDTH - LEFT - RIGHT;
const PLOT_H = HEIGHT - TOP - BOTTOM;

/** Tableau 10: distinct, readable on white; lines past ten repeat the colours dashed. */
const COLORS = [
  '#4e79a7',
  '#f28e2b',
  '#e15759',
  '#76b7b2',
  '#59a14f',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#7f7f7f',
];

const f1 = (n: number): string => (Math.round(n * 10) / 10).toFixed(1).replace(/\.0$/, '');

/** A tick label: 0.5, 12, 1.2k, 30k, 1.5M. */
function label(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${trim(value / 1e6)}M`;
  if (abs >= 1e3) return `${trim(value / 1e3)}k`;
  return trim(value);
}

function trim(n: number): string {
  return String(Math.round(n * 100) / 100);
}

/** A "nice" step (1, 2 or 5 times a power of 10) giving about `count` ticks over `span`. */
function niceStep(span: number, count: number): number {
  const raw = span / count;
  const power = Math.pow(10, Math.floor(Math.log10(raw)));
  const fraction = raw / power;
  const nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10;
  return nice * power;
}

/** Draws the chart as an SVG document (a string). */
export function lineChart(spec: ChartSpec): string {
  const { xs, lines, scale } = spec;
  const xMax = xs.length > 0 ? Math.max(...xs, 1e-9) : 1;
  const xStep = niceStep(xMax, 8);
  const xEnd = Math.ceil(xMax / xStep - 1e-9) * xStep;

  let yMax = 0;
  for (const line of lines) for (const v of line.values) if (v !== null && v > yMax) yMax = v;
  const transform = scale === 'log' ? (v: number) => Math.log10(1 + Math.max(0, v)) : (v: number) => v;
  let yTicks: number[];
  let yTop: number;
  if (scale === 'log') {
    const decades = Math.max(1, Math.ceil(Math.log10(Math.max(1, yMax)) - 1e-9));
    yTicks = [0];
    for (let d = 0; d <= decades; d++) yTicks.push(Math.pow(10, d));
    yTop = transform(Math.pow(10, decades));
  } else {
    const step = niceStep(yMax > 0 ? yMax : 1, 5);
    const top = Math.max(step, Math.ceil(yMax / step - 1e-9) * step);
    yTicks = [];
    for (let v = 0; v <= top + step / 2; v += step) yTicks.push(Math.round(v / step) * step);
    yTop = top;
  }
  const px = (x: number) => LEFT + (x / xEnd) * PLOT_W;
  const py = (y: number) => TOP + PLOT_H - (transform(y) / yTop) * PLOT_H;

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="11">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#fff"/>`,
    `<text x="${LEFT}" y="20" font-size="13" font-weight="bold">${escapeXml(spec.title)}</text>`,
  );
  // Grid and axes.
  out.push('<g stroke="#e5e5e5">');
  for (const t of yTicks)
    out.push(`<line x1="${LEFT}" y1="${f1(py(t))}" x2="${LEFT + PLOT_W}" y2="${f1(py(t))}"/>`);
  for (let x = 0; x <= xEnd + xStep / 2; x += xStep) {
    out.push(`<line x1="${f1(px(x))}" y1="${TOP}" x2="${f1(px(x))}" y2="${TOP + PLOT_H}"/>`);
  }
  out.push('</g>', '<g fill="#333">');
  for (const t of yTicks) {
    out.push(`<text x="${LEFT - 6}" y="${f1(py(t) + 4)}" text-anchor="end">${label(t)}</text>`);
  }
  for (let x = 0; x <= xEnd + xStep / 2; x += xStep) {
    out.push(`<text x="${f1(px(x))}" y="${TOP + PLOT_H + 16}" text-anchor="middle">${label(x)}</text>`);
  }
  out.push(
    `<text x="${LEFT + PLOT_W / 2}" y="${HEIGHT - 6}" text-anchor="middle">time (s)</text>`,
    `<text transform="translate(14 ${TOP + PLOT_H / 2}) rotate(-90)" text-anchor="middle">${escapeXml(spec.yLabel)}</text>`,
    '</g>',
    `<rect x="${LEFT}" y="${TOP}" width="${PLOT_W}" height="${PLOT_H}" fill="none" stroke="#999"/>`,
  );
  // Markers.
  for (const marker of spec.markers ?? []) {
    if (marker.at < 0 || marker.at > xEnd) continue;
    const x = f1(px(marker.at));
    out.push(
      `<line x1="${x}" y1="${TOP}" x2="${x}" y2="${TOP + PLOT_H}" stroke="#555" stroke-dasharray="4 3"/>`,
      `<text x="${x}" y="${TOP - 4}" text-anchor="middle" fill="#555" font-size="10">${escapeXml(marker.label)}</text>`,
    );
  }
  // Lines, then the legend.
  lines.forEach((line, i) => {
    const color = COLORS[i % COLORS.length] as string;
    const dash = i >= COLORS.length ? ' stroke-dasharray="6 3"' : '';
    let d = '';
    let open = false;
    line.values.forEach((v, j) => {
      const x = xs[j];
      if (v === null || x === undefined) {
        open = false;
        return;
      }
      d += `${open ? 'L' : 'M'}${f1(px(x))} ${f1(py(v))}`;
      open = true;
    });
    if (d !== '') {
      out.push(
        `<path d="${d}" fill="none" stroke="${color}" stroke-width="1.5"${dash}><title>${escapeXml(line.name)}</title></path>`,
      );
    }
  });
  lines.forEach((line, i) => {
    const color = COLORS[i % COLORS.length] as string;
    const dash = i >= COLORS.length ? ' stroke-dasharray="6 3"' : '';
    const y = TOP + 8 + i * 16;
    const x = LEFT + PLOT_W + 12;
    out.push(
      `<line x1="${x}" y1="${y}" x2="${x + 18}" y2="${y}" stroke="${color}" stroke-width="2"${dash}/>`,
      `<text x="${x + 24}" y="${y + 4}" fill="#333">${escapeXml(line.name)}</text>`,
    );
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
