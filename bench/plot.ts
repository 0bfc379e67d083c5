/**
 * The scaling curve as a chart: Vega-Lite compiled and rendered to SVG by Vega (no canvas needed),
 * and a PNG of the SVG taken by Chromium when it is installed (so it can be looked at anywhere).
 */
import { existsSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

export interface ScalingPoint {
  clusters: number;
  wallS: number;
  /** The same clusters by seed 000's runbook, one after another. */
  runbookS: number;
  googleCallsPerCluster: number;
  slackCallsPerCluster: number;
  peakRssMb: number;
}

const CHROMIUM = '/usr/bin/chromium';

function chart(points: ScalingPoint[]): TopLevelSpec {
  const x = {
    field: 'clusters',
    type: 'quantitative',
    scale: { type: 'log' },
    title: 'clusters',
    axis: { values: points.map((p) => p.clusters) },
  } as const;
  const panel = (
    title: string,
    unit: string,
    series: Record<string, (p: ScalingPoint) => number>,
    log = false,
  ) => ({
    title,
    width: 260,
    height: 200,
    data: {
      values: points.flatMap((p) =>
        Object.entries(series).map(([name, value]) => ({
          clusters: p.clusters,
          series: name,
          value: value(p),
        })),
      ),
    },
    mark: { type: 'line', point: true },
    encoding: {
      x,
      y: { field: 'value', type: 'quantitative', title: unit, ...(log ? { scale: { type: 'log' } } : {}) },
      color: {
        field: 'series',
        type: 'nominal',
        title: null,
        legend: { orient: 'bottom', direction: 'vertical', labelLimit: 320 },
      },
    },
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'meshops: onboarding a fleet as one batch (emulator ×20)',
    background: 'white',
    hconcat: [
      panel(
        'Wall time',
        'seconds (log)',
        { 'meshops, one batch': (p) => p.wallS, 'runbook, one cluster after another': (p) => p.runbookS },
        true,
      ),
      panel('Calls per cluster', 'calls', {
        Google: (p) => p.googleCallsPerCluster,
        Slack: (p) => p.slackCallsPerCluster,
      }),
      panel('Memory', 'peak RSS of the bot, MB', { 'meshops (built, node dist)': (p) => p.peakRssMb }),
    ],
    resolve: { scale: { color: 'independent' } },
  } as TopLevelSpec;
}

/** Writes `base`.svg (and `base`.png with Chromium); returns the files written. */
export async function plotScaling(points: ScalingPoint[], base: string): Promise<string[]> {
  const view = new vega.View(vega.parse(compile(chart(points)).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  writeFileSync(`${base}.svg`, svg);
  const written = [`${base}.svg`];
  if (!existsSync(CHROMIUM)) return written;
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage({ deviceScaleFactor: 2 });
    await page.goto(pathToFileURL(resolve(`${base}.svg`)).href);
    await page.locator('svg').screenshot({ path: `${base}.png` });
    written.push(`${base}.png`);
  } finally {
    await browser.close();
  }
  return written;
}
