import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { COLUMN_MANIFEST } from '../../src/domain/classification.ts';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const SRC = files('src');
const importsOf = (f: string) => [...readFileSync(f, 'utf8').matchAll(/from '([^']+)'/g)].map((m) => m[1] ?? '');

test('customer rows are read only inside the firewall (and by the demo history, which decides through the firewall’s own view)', () => {
  // src/demo/history.ts writes the demo's past reads: it loads the records it made and passes each through the
  // firewall's viewRecord, so the history says what the firewall would have shown. Nothing it loads is served.
  const readers = SRC.filter((f) => importsOf(f).some((i) => i.endsWith('/customer-store.ts')));
  assert.deepEqual(readers, ['src/demo/history.ts', 'src/firewall/firewall.ts']);
});

test('routes never touch stored records or the store’s customer queries', () => {
  for (const f of SRC.filter((x) => x.startsWith('src/api/'))) {
    for (const i of importsOf(f)) assert.ok(!/customer-store|domain\/record/.test(i), `${f} imports ${i}`);
  }
});

test('the domain core does no I/O', () => {
  for (const f of SRC.filter((x) => x.startsWith('src/domain/'))) {
    for (const i of importsOf(f)) assert.ok(i.startsWith('./') || i === 'node:crypto', `${f} imports ${i}`);
  }
});

/**
 * The SQL side of principle 1, which an import check cannot see: outside the firewall's store module (and the
 * demo generator, which writes the rows), SQL that names a customer table is allowed only where listed here
 * with the reason, and the columns it names must be of classes the reason covers.
 */
const CUSTOMER_TABLES = ['supply_points', 'customers', 'contracts'] as const;
/** `classes: null`: the SQL runs on DuckDB's own analysis tables, which share the names but not the store. */
const CUSTOMER_SQL: Readonly<Record<string, { readonly why: string; readonly classes: readonly string[] | null }>> = {
  'src/server.ts': { why: 'whether the store is empty (seed the demo on first start): SELECT 1 … LIMIT 1, no column', classes: [] },
  'src/analysis/live.ts': {
    why: "the regulator's report over the live log needs which retailer held each supply point read, at the read's instant: contract metadata, never the holder's name, phone or address",
    classes: ['customer_type', 'retailer', 'last_resort', 'contract_history', 'internal'],
  },
  'src/analysis/report.ts': { why: "DuckDB's own analysis tables (filled by live.ts and legacy-load.ts), not the store", classes: null },
  'src/analysis/legacy-load.ts': { why: "creates DuckDB's analysis tables from legacy exports, not the store", classes: null },
};

test('SQL naming a customer table lives in the firewall store, the demo, or a listed file, naming only the columns its reason covers', () => {
  const tableRef = new RegExp(`\\b(?:FROM|JOIN|INTO|UPDATE|COPY|TABLE)\\s+(${CUSTOMER_TABLES.join('|')})\\b(?:\\s+(?:AS\\s+)?([a-z_]+))?`, 'gi');
  const found: string[] = [];
  for (const f of SRC.filter((x) => x !== 'src/store/customer-store.ts' && !x.startsWith('src/demo/'))) {
    const text = readFileSync(f, 'utf8');
    const refs = [...text.matchAll(tableRef)];
    if (refs.length === 0) continue;
    found.push(f);
    const allowed = CUSTOMER_SQL[f];
    assert.ok(allowed !== undefined, `${f} has SQL on ${refs.map((r) => r[1]).join(', ')} outside the firewall's store module`);
    // Columns named through an alias of a customer table (c.capacity, cu.phone) must be of an allowed class.
    const classes = allowed.classes;
    if (classes === null) continue;
    for (const r of refs) {
      const table = (r[1] ?? '').toLowerCase() as (typeof CUSTOMER_TABLES)[number];
      const alias = r[2];
      if (alias === undefined || /^(on|where|select|limit|order|group|join|left|inner|s)$/i.test(alias)) continue;
      for (const m of text.matchAll(new RegExp(`\\b${alias}\\.([a-z_]+)\\b`, 'g'))) {
        const cls = COLUMN_MANIFEST[table]?.[m[1] ?? ''];
        assert.ok(cls !== undefined, `${f}: ${alias}.${m[1]} is not a column of ${table} in the manifest`);
        const base = cls.startsWith('internal:') ? 'internal' : cls;
        assert.ok(classes.includes(base), `${f} names ${table}.${m[1]} (${cls}), beyond its reason: ${allowed.why}`);
      }
    }
  }
  assert.deepEqual(found.sort(), Object.keys(CUSTOMER_SQL).sort(), 'every listed file still needs its entry');
});
