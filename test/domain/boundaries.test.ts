import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const SRC = files('src');
const importsOf = (f: string) => [...readFileSync(f, 'utf8').matchAll(/from '([^']+)'/g)].map((m) => m[1] ?? '');

test('customer rows are read only inside the firewall', () => {
  const readers = SRC.filter((f) => importsOf(f).some((i) => i.endsWith('/customer-store.ts')));
  assert.deepEqual(readers, ['src/firewall/firewall.ts']);
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
