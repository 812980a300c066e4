import assert from 'node:assert/strict';
import { test } from 'node:test';
import { barChart, cdfChart, groupedBarChart, lineChart, niceTicks, tickLabel } from './charts.js';

test('nice ticks: steps of 1, 2 or 5 × 10^k covering the range', () => {
  assert.deepEqual(niceTicks(0, 1), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(niceTicks(0, 17.7), [0, 5, 10, 15, 20]);
  assert.deepEqual(niceTicks(0, 3.35), [0, 1, 2, 3, 4]);
  assert.deepEqual(niceTicks(0, 839), [0, 200, 400, 600, 800, 1000]);
  assert.deepEqual(niceTicks(0.001, 0.0042), [0.001, 0.002, 0.003, 0.004, 0.005]);
  assert.deepEqual(niceTicks(5, 5), [5, 6, 7, 8, 9, 10]);
  assert.deepEqual(niceTicks(0, 0), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.equal(tickLabel(0.2, [0, 0.2]), '0.2');
  assert.equal(tickLabel(20_000, [0, 10_000, 20_000]), '20k');
});

const numbers = (svg: string, attr: string) =>
  [...svg.matchAll(new RegExp(`${attr}="([\\d.]+)"`, 'g'))].map((m) => Number(m[1]));

test('line chart: one polyline per series, every category labelled, the legend right of the plot', () => {
  const svg = lineChart({
    title: 't',
    xLabel: 'replicas',
    yLabel: 'ratio',
    categories: [2, 4, 8],
    series: [
      {
        name: 'a',
        points: [
          [0, 1],
          [1, 2],
          [2, 3],
        ],
      },
      {
        name: 'a-much-longer-name',
        points: [
          [0, 1],
          [1, 1],
          [2, 1],
        ],
      },
    ],
  });
  assert.equal((svg.match(/<polyline/g) ?? []).length, 2);
  for (const x of ['>2<', '>4<', '>8<', '>replicas<', '>ratio<']) assert.ok(svg.includes(x), x);
  // Every data point lies left of every legend swatch.
  const plotRight = Math.max(...numbers(svg, 'cx'));
  const legendLeft = Math.min(
    ...[...svg.matchAll(/<rect x="([\d.]+)" y="[\d.]+" width="12"/g)].map((m) => Number(m[1])),
  );
  assert.ok(plotRight < legendLeft, `${plotRight} < ${legendLeft}`);
});

test('CDF: a staircase from 0 to 1 with a 0..1 axis', () => {
  const svg = cdfChart({ title: 'c', xLabel: 'TTFT (s)', series: [{ name: 'x', values: [0.3, 0.1, 0.2] }] });
  assert.ok(svg.includes('>1.0<') && svg.includes('>0.0<'));
  assert.ok(svg.includes('fraction of requests'));
});

test('bars: value ticks and each bar labelled; a tiny grouped bar stays visible', () => {
  const bar = barChart({
    title: 'b',
    unit: 'req/s',
    rows: [
      { name: 'random', value: 7.7 },
      { name: 'default', value: 17.2 },
    ],
  });
  for (const x of ['>0<', '>10<', '>20<', '>17.2<', '>7.70<', '>req/s<']) assert.ok(bar.includes(x), x);
  const grouped = groupedBarChart({
    title: 'g',
    xLabel: 'c',
    yLabel: 'ms',
    groups: [50],
    series: [
      { name: 'big', values: [1000] },
      { name: 'tiny', values: [0.01] },
    ],
  });
  const heights = [...grouped.matchAll(/height="([\d.]+)" fill="#/g)].map((m) => Number(m[1]));
  assert.ok(Math.min(...heights) >= 1, heights.join(','));
});
