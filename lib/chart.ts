// Pictures as SVG files (`fused-rnn/chart`): loss curves, gradient norms, benchmark tables.
// vega-lite describes the chart and vega renders it headless; both are optional dependencies
// (about 20 MB, ESM-only, Node >= 20), loaded only when a picture is asked for, so the layers
// and the CLI work without them and a missing install is one clear error.
import { writeFile } from 'node:fs/promises';

export interface ChartSeries {
  name: string;
  /** [x, y] pairs; non-finite y values are left out (a log axis cannot show 0 either). */
  points: readonly (readonly [number, number])[];
}

export interface LineChartSpec {
  title: string;
  x: { title: string; log?: boolean };
  y: { title: string; log?: boolean };
  series: readonly ChartSeries[];
  /** Pixels of the plotting area. Default 560 x 320. */
  width?: number;
  height?: number;
}

export interface BarChartSpec {
  title: string;
  /** One bar per (group, series): e.g. group = workload, series = library. */
  bars: readonly { group: string; series: string; value: number }[];
  y: { title: string; log?: boolean };
  width?: number;
  height?: number;
}

/** Thrown when vega / vega-lite are not installed; says how to get them. */
export class ChartUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`pictures need the optional packages vega and vega-lite (npm install vega vega-lite): ${String((cause as Error)?.message ?? cause).split('\n')[0]}`);
    this.name = 'ChartUnavailableError';
  }
}

type VegaLiteSpec = Record<string, unknown>;

async function render(spec: VegaLiteSpec): Promise<string> {
  let vega, vl;
  try {
    [vega, vl] = await Promise.all([import('vega'), import('vega-lite')]);
  } catch (e) {
    throw new ChartUnavailableError(e);
  }
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const compiled = vl.compile(spec as any).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

const scale = (log?: boolean) => (log ? { type: 'log' } : { zero: false });

/** A line chart, one line per series, as an SVG string. */
export function lineChartSvg(spec: LineChartSpec): Promise<string> {
  const values = spec.series.flatMap((s) => s.points
    .filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!spec.y.log || y > 0))
    .map(([x, y]) => ({ series: s.name, x, y })));
  return render({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: spec.title,
    width: spec.width ?? 560,
    height: spec.height ?? 320,
    background: 'white',
    data: { values },
    mark: { type: 'line', clip: true },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: spec.x.title, scale: scale(spec.x.log) },
      y: { field: 'y', type: 'quantitative', title: spec.y.title, scale: scale(spec.y.log) },
      color: { field: 'series', type: 'nominal', title: null, sort: spec.series.map((s) => s.name) },
    },
  });
}

/** Grouped bars (one group per label, one bar per series in it), as an SVG string. */
export function barChartSvg(spec: BarChartSpec): Promise<string> {
  const groups = [...new Set(spec.bars.map((b) => b.group))];
  const series = [...new Set(spec.bars.map((b) => b.series))];
  const values = spec.bars.filter((b) => Number.isFinite(b.value) && (!spec.y.log || b.value > 0));
  // A log axis has no zero for bars to grow from: start it a decade boundary below the smallest bar.
  const lowest = Math.min(...values.map((b) => b.value));
  const yScale = spec.y.log ? { type: 'log', domainMin: 10 ** Math.floor(Math.log10(lowest * 0.99)) } : {};
  return render({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: spec.title,
    background: 'white',
    data: { values },
    width: { step: 14 },
    height: spec.height ?? 320,
    mark: 'bar',
    encoding: {
      column: { field: 'group', type: 'nominal', title: null, sort: groups, header: { labelAngle: -30, labelAlign: 'right', labelOrient: 'bottom' } },
      x: { field: 'series', type: 'nominal', axis: null, sort: series },
      y: { field: 'value', type: 'quantitative', title: spec.y.title, scale: yScale, stack: null },
      color: { field: 'series', type: 'nominal', title: null, sort: series },
    },
  });
}

/** lineChartSvg written to `path` (an .svg file). */
export async function writeLineChart(path: string, spec: LineChartSpec): Promise<void> {
  await writeFile(path, await lineChartSvg(spec));
}

/** barChartSvg written to `path` (an .svg file). */
export async function writeBarChart(path: string, spec: BarChartSpec): Promise<void> {
  await writeFile(path, await barChartSvg(spec));
}
