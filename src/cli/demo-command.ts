import type { Config } from '../config.ts';
import { generateDemo } from '../demo/generate.ts';
import type { AreaCode } from '../domain/supply-point.ts';
import { isEmpty } from '../server.ts';
import { openStore } from '../store/open.ts';
import { UsageError } from './exit.ts';
import type { CliIo } from './io.ts';

/** `gridwall demo`: fills an empty store with a generated area. Refuses a store that holds data. */
export async function runDemo(config: Config, opts: { supplyPoints: number; seed: number; area: AreaCode }, io: CliIo): Promise<number> {
  const db = await openStore(config.store);
  try {
    if (!(await isEmpty(db))) {
      const hint = config.store.kind === 'pglite' ? `use an empty GRIDWALL_DATA_DIR (or remove ${config.store.dataDir})` : 'use an empty database';
      throw new UsageError(`the store already holds customer data; ${hint}`);
    }
    const t0 = Date.now();
    const summary = await generateDemo(db, {
      supplyPoints: opts.supplyPoints,
      seed: opts.seed,
      areaCode: opts.area,
      now: new Date(),
      onProgress: (m) => io.stderr.write(`${m}\n`),
    });
    const s = ((Date.now() - t0) / 1000).toFixed(1);
    io.stdout.write(
      `demo: ${summary.supplyPoints} supply points, ${summary.customers} customers, ${summary.contracts} contracts, ${summary.retailers} retailers, ${summary.persons} people, ${summary.terminals} terminals in ${s} s\n`,
    );
    return 0;
  } finally {
    await db.close();
  }
}
