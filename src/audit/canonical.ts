/**
 * The canonical encoding the access log's hash chain is computed over: JSON with object keys sorted
 * (by UTF-16 code units, as JavaScript sorts), no whitespace, `undefined` members left out, and only finite
 * numbers. The same value always gives the same bytes, whatever order its keys were built or stored in
 * (PostgreSQL's jsonb reorders keys), so a row read back from the store re-encodes to what was hashed.
 *
 * Written as one walk that appends to a string (Array.prototype.sort's default order is the UTF-16 order):
 * the verifier encodes every stored event with it, and the generic entries/sort/map/join form took a quarter
 * of `gridwall audit verify`'s time (issue 21). test/audit/chain.test.ts holds it equal to that form.
 */
export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('canonical JSON has no encoding for a non-finite number');
      return JSON.stringify(value);
    case 'object': {
      if (value instanceof Date) return JSON.stringify(value.toISOString());
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          const v: unknown = value[i];
          out += `${i === 0 ? '' : ','}${v === undefined ? 'null' : canonicalJson(v)}`;
        }
        return `${out}]`;
      }
      const o = value as Record<string, unknown>;
      let out = '{';
      let first = true;
      for (const k of Object.keys(o).sort()) {
        const v = o[k];
        if (v === undefined) continue;
        out += `${first ? '' : ','}${JSON.stringify(k)}:${canonicalJson(v)}`;
        first = false;
      }
      return `${out}}`;
    }
    default:
      throw new TypeError(`canonical JSON has no encoding for a ${typeof value}`);
  }
}
