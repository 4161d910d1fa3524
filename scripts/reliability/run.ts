// `npm run reliability -- <scenario>|all [options]`: the fault suite (docs/RELIABILITY.md). Prints each
// scenario's figures and checks; exit 0 when every check held, 1 when one did not, 2 on bad usage or a
// machine that cannot run it.
import { Command, InvalidArgumentError, Option } from 'commander';
import {
  diskFullScenario,
  kill9Scenario,
  loadScenario,
  pgFreezeScenario,
  pgRestartScenario,
  SCENARIOS,
  slowHeadersScenario,
  unavailable,
  type Common,
  type Report,
  type Scenario,
  type StoreKind,
} from './scenarios.ts';

function positive(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('a whole number ≥ 1');
  return n;
}

function counts(v: string): number[] {
  return v.split(',').map((x) => positive(x.trim()));
}

export interface RunOptions {
  readonly store: StoreKind;
  readonly clients: number[];
  readonly seconds?: number;
  readonly supplyPoints: number;
  readonly out?: string;
}

/** Runs one scenario with the options as given on the command line (each scenario's own defaults otherwise). */
export async function runScenario(s: Scenario, o: RunOptions): Promise<Report> {
  const common = (seconds: number): Common => ({
    store: o.store,
    clients: o.clients[0] ?? 20,
    seconds: o.seconds ?? seconds,
    supplyPoints: o.supplyPoints,
    ...(o.out === undefined ? {} : { outDir: o.out }),
  });
  switch (s) {
    case 'load':
      return loadScenario({ ...common(60), clientCounts: o.clients.length > 0 ? o.clients : [50, 200] });
    case 'kill9':
      return kill9Scenario(common(20));
    case 'pg-restart':
      return pgRestartScenario({ ...common(30), downSeconds: 5 });
    case 'pg-freeze':
      return pgFreezeScenario({ ...common(45), freezeSeconds: 30 });
    case 'disk-full':
      return diskFullScenario({ ...common(40), fullSeconds: 10, sizeMb: 160 });
    case 'slow-headers':
      return slowHeadersScenario({ ...common(15), connections: 20, headersTimeoutMs: 10_000 });
  }
}

function print(r: Report): void {
  const out = process.stdout;
  out.write(`\n== ${r.scenario} (${r.store}) ${JSON.stringify(r.settings)}\n`);
  for (const [k, v] of Object.entries(r.figures)) out.write(`  ${k}: ${JSON.stringify(v)}\n`);
  for (const c of r.checks) out.write(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name} — ${c.detail}\n`);
  out.write(`  server log: ${r.serverLog}\n`);
}

const program = new Command('reliability')
  .description('the fault suite: gridwall under load, kill -9, PostgreSQL stopped and frozen, a full disk, slow-header clients')
  .argument('<scenario>', `${SCENARIOS.join(' | ')} | all`)
  .addOption(
    new Option('--store <kind>', 'the store under gridwall (pg-restart, pg-freeze and disk-full always use PostgreSQL)')
      .choices(['postgres', 'pglite'])
      .default('postgres'),
  )
  .option('--clients <n,…>', 'concurrent clients (load: one round per number; default 50,200 for load, 20 otherwise)', counts, [])
  .option('--seconds <n>', "length of the run (each scenario's own default otherwise)", positive)
  .option('--supply-points <n>', 'size of the demo area', positive, 2000)
  .option('--out <dir>', 'where the server logs are kept (a new temporary directory otherwise)')
  .option('--json', 'print one JSON line per scenario instead of the text')
  // Bad usage is exit 2 (commander's own is 1); help is 0.
  .exitOverride((e) => process.exit(e.exitCode === 0 ? 0 : 2))
  .action(async (scenario: string, o: RunOptions & { json?: boolean }) => {
    const chosen: Scenario[] = scenario === 'all' ? [...SCENARIOS] : SCENARIOS.includes(scenario as Scenario) ? [scenario as Scenario] : [];
    if (chosen.length === 0) program.error(`unknown scenario ${JSON.stringify(scenario)}: use ${SCENARIOS.join(', ')} or all`, { exitCode: 2 });
    let failed = 0;
    for (const s of chosen) {
      const why = unavailable(s, o.store);
      if (why !== null) program.error(`${s}: cannot run here (${why})`, { exitCode: 2 });
      const r = await runScenario(s, o);
      if (o.json === true) process.stdout.write(`${JSON.stringify(r)}\n`);
      else print(r);
      failed += r.checks.filter((c) => !c.ok).length;
    }
    process.exitCode = failed === 0 ? 0 : 1;
  });

if (import.meta.url === `file://${process.argv[1]}`) await program.parseAsync();
