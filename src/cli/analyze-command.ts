import { writeFileSync } from 'node:fs';
import { openEngine } from '../analysis/duck.ts';
import { loadLegacy } from '../analysis/legacy-load.ts';
import { reportDoc, toTable } from '../analysis/output.ts';
import type { CsvEncoding } from '../domain/export-file.ts';
import { csvEncodingOption, writeSpreadsheet, xlsxNeedsOut } from './spreadsheet-output.ts';
import { buildReport, periodBounds } from '../analysis/report.ts';
import { DEFAULT_THRESHOLDS, type Thresholds } from '../analysis/rules.ts';
import { EXIT, UsageError } from './exit.ts';
import type { CliIo } from './io.ts';

export interface AnalyzeOptions {
  readonly affiliate: string;
  readonly from: string;
  readonly to: string;
  readonly staff: string;
  readonly terminals: string;
  readonly contracts: string;
  readonly log: readonly string[];
  readonly format: 'table' | 'json' | 'csv' | 'xlsx';
  readonly encoding?: CsvEncoding;
  readonly out?: string;
  readonly threshold: readonly string[];
  readonly memoryLimit?: string;
}

/** `--threshold bulkMinDaily=200` (repeatable): the rule thresholds, by their names in the report. */
export function parseThresholds(pairs: readonly string[]): Partial<Thresholds> {
  const out: Record<string, number> = {};
  for (const p of pairs) {
    const m = /^(\w+)=(\d+(?:\.\d+)?)$/.exec(p.trim());
    if (m === null) throw new UsageError(`--threshold ${p}: write name=number, e.g. bulkMinDaily=200`);
    const name = m[1] ?? '';
    if (!(name in DEFAULT_THRESHOLDS)) throw new UsageError(`--threshold ${name}: unknown; known: ${Object.keys(DEFAULT_THRESHOLDS).join(', ')}`);
    out[name] = Number(m[2]);
  }
  return out;
}

/** A progress line on a terminal (stderr), nothing when piped. */
function progress(total: number, io: CliIo): { step: (label: string, bytes: number) => void; done: () => void } {
  const tty = io.stderr.isTTY === true;
  let done = 0;
  const t0 = Date.now();
  return {
    step(label, bytes) {
      done += bytes;
      if (!tty) return;
      const share = total === 0 ? 1 : Math.min(1, done / total);
      const bar = '█'.repeat(Math.round(share * 30)).padEnd(30, '░');
      io.stderr.write(`\r${bar} ${(share * 100).toFixed(0).padStart(3)}%  ${((Date.now() - t0) / 1000).toFixed(1)} s  ${label.slice(-40).padEnd(40)}`);
    },
    done() {
      if (tty) io.stderr.write('\n');
    },
  };
}

/**
 * `gridwall analyze` (formats.md): the regulator's tables and the anomaly findings over legacy exports.
 * Exit 0 when the run completed (findings are data), 2 on bad arguments or unreadable files.
 */
export async function runAnalyze(opts: AnalyzeOptions, io: CliIo): Promise<number> {
  if (opts.affiliate.trim() === '') throw new UsageError('--affiliate must name the affiliated retailer code');
  try {
    periodBounds(opts.from, opts.to);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (opts.log.length === 0) throw new UsageError('give at least one --log file');
  const thresholds = parseThresholds(opts.threshold);
  xlsxNeedsOut(opts.format, opts.out);
  const encoding = csvEncodingOption(opts.format, opts.encoding);

  const { statSync } = await import('node:fs');
  const size = (f: string) => {
    try {
      return statSync(f).size;
    } catch {
      return 0;
    }
  };
  const bar = progress([opts.staff, opts.terminals, opts.contracts, ...opts.log].reduce((n, f) => n + size(f), 0) * 1.25, io);
  const engine = await openEngine(opts.memoryLimit === undefined ? {} : { memoryLimit: opts.memoryLimit });
  try {
    const inputs = await loadLegacy(engine, { staff: opts.staff, terminals: opts.terminals, contracts: opts.contracts, logs: opts.log }, (file, bytes) =>
      bar.step(file, bytes),
    );
    const report = await buildReport(engine, { affiliate: opts.affiliate.trim(), from: opts.from, to: opts.to, thresholds });
    bar.step('集計完了', Number.MAX_SAFE_INTEGER);
    bar.done();
    const full = { ...report, inputs };
    if (opts.format === 'xlsx' || opts.format === 'csv') await writeSpreadsheet(io, reportDoc(report), opts.format, encoding, opts.out);
    else {
      const text = opts.format === 'json' ? `${JSON.stringify(full, null, 2)}\n` : toTable(report);
      if (opts.out === undefined) io.stdout.write(text);
      else writeFileSync(opts.out, text);
    }
    const rejected = report.rejected.length;
    io.stderr.write(
      `analyze: ${report.rows.read} log rows read, ${report.rows.used} used, ${report.rows.rejected} rejected, ${report.rows.outsidePeriod} outside the period; ` +
        `${report.total.views.total} views, ${report.findings.length} findings${rejected > 0 ? `; ${rejected} rejected rows in all files (listed in the output)` : ''}\n`,
    );
    return EXIT.ok;
  } finally {
    engine.close();
  }
}
