import { existsSync } from 'node:fs';
import { GroupCommitLog } from '../audit/log-writer.ts';
import { loadSigningKey } from '../audit/signing.ts';
import { configuredTrust } from '../audit/trust.ts';
import { WitnessFile } from '../audit/witness.ts';
import type { Config } from '../config.ts';
import { generateDemo } from '../demo/generate.ts';
import { seedDemoPast } from '../demo/history.ts';
import { compileDecisionTable } from '../domain/decision-table.ts';
import type { AreaCode } from '../domain/supply-point.ts';
import { isEmpty } from '../server.ts';
import { openStore } from '../store/open.ts';
import { UsageError } from './exit.ts';
import type { CliIo } from './io.ts';

/**
 * `gridwall demo`: fills an empty store with a generated area and a quarter of access history (written through
 * the log writer with the deployment's signing key, then scanned). Refuses a store that holds data. Without a
 * signing key (PostgreSQL without GRIDWALL_LOG_KEY_FILE) the area is made without the history.
 */
export async function runDemo(config: Config, opts: { supplyPoints: number; seed: number; area: AreaCode }, io: CliIo): Promise<number> {
  const db = await openStore(config.store);
  try {
    if (!(await isEmpty(db))) {
      const hint = config.store.kind === 'pglite' ? `use an empty GRIDWALL_DATA_DIR (or remove ${config.store.dataDir})` : 'use an empty database';
      throw new UsageError(`the store already holds customer data; ${hint}`);
    }
    const t0 = Date.now();
    const now = new Date();
    const summary = await generateDemo(db, {
      supplyPoints: opts.supplyPoints,
      seed: opts.seed,
      areaCode: opts.area,
      now,
      onProgress: (m) => io.stderr.write(`${m}\n`),
    });
    let past = 'no access history (set GRIDWALL_LOG_KEY_FILE to an existing log signing key to write one)';
    // The history needs the signing key now. A deployment that makes its key after loading the area
    // (docs/DEPLOYMENT.md: migrate, demo, grant-app, `audit key register --generate`) gets the area alone.
    if (config.logKey !== null && (config.logKey.create || existsSync(config.logKey.path))) {
      const { key, created } = loadSigningKey(config.logKey.path, config.logKey.create);
      if (created) io.stderr.write(`Generated the access-log signing key ${config.logKey.path} (key ${key.keyId}); keep it safe and back it up.\n`);
      const log = new GroupCommitLog(db, { key, trusted: configuredTrust(key, config.logTrustedKeys).keys, witness: new WitnessFile(config.logWitnessFile) });
      try {
        const history = await seedDemoPast(db, log, compileDecisionTable(), { seed: opts.seed, now, onProgress: (m) => io.stderr.write(`${m}\n`) });
        past = `${history.events} access-log events (${history.from} – ${history.to}), ${history.findings} findings queued`;
      } finally {
        await log.close();
      }
    }
    const s = ((Date.now() - t0) / 1000).toFixed(1);
    io.stdout.write(
      `demo: ${summary.supplyPoints} supply points, ${summary.customers} customers, ${summary.contracts} contracts, ${summary.retailers} retailers, ${summary.persons} people, ${summary.terminals} terminals, ${past} in ${s} s\n`,
    );
    return 0;
  } finally {
    await db.close();
  }
}
