import { writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import type { Config } from '../config.ts';
import { IMPORT_OUTCOMES, IMPORT_RULE_LABELS, REGISTER_FILES, type ImportOutcome, type RegisterFile } from '../domain/register-import.ts';
import { GrantRefusal } from '../governance/grant-service.ts';
import { importOperator, importRegisters, type ImportResult, type RegisterSources } from '../governance/legacy-import.ts';
import { openStore } from '../store/open.ts';
import { EXIT, UsageError } from './exit.ts';
import type { CliIo } from './io.ts';

/** Each outcome's words, Japanese first (the table's column heads and the rows' labels). */
const OUTCOME_WORDS: Readonly<Record<ImportOutcome, string>> = {
  created: '新規 created',
  updated: '更新 updated',
  unchanged: '変更なし unchanged',
  requested: '承認待ち requested',
  skipped: '対象外 skipped',
  refused: '拒否 refused',
  rejected: '不正 rejected',
};

/** The table output: per file counts, the rows not imported (by file and line, the rule in both languages), then the changes. */
export function importTable(r: ImportResult): string {
  const head = r.dryRun ? '取り込みの試行（何も変更していません） / import dry run (nothing changed)' : '台帳の取り込み / import of the legacy registers';
  const pad = (s: string, n: number) => s.padEnd(n);
  const files = r.files.map((f) => ({ ...f, counts: r.counts[f.file] }));
  const nameWidth = Math.max(12, ...files.map((f) => f.name.length + f.encoding.length + 3));
  const line = (name: string, c: Readonly<Record<string, number>> | undefined) =>
    `  ${pad(name, nameWidth)} ${String(c?.['read'] ?? 0).padStart(6)} ${IMPORT_OUTCOMES.map((o) => String(c?.[o] ?? 0).padStart(Math.max(6, o.length))).join(' ')}`;
  const rule = (x: ImportResult['rows'][number]) => (x.rule === null ? '' : `${x.rule} ${IMPORT_RULE_LABELS[x.rule].ja} / ${IMPORT_RULE_LABELS[x.rule].en}: `);
  const notImported = r.rows.filter((x) => x.outcome === 'refused' || x.outcome === 'rejected');
  const changes = r.rows.filter((x) => x.outcome === 'created' || x.outcome === 'updated' || x.outcome === 'requested');
  const skipped = r.rows.filter((x) => x.outcome === 'skipped');
  const changed = r.total.created + r.total.updated + r.total.requested;
  const out = [
    `${head}  ${r.importId}`,
    `  operator ${r.operator.userId} (${r.operator.personId}), at ${r.at.toISOString()}`,
    '',
    `  ${pad('file', nameWidth)} ${'read'.padStart(6)} ${IMPORT_OUTCOMES.map((o) => o.padStart(Math.max(6, o.length))).join(' ')}`,
    ...files.map((f) => line(`${f.name} (${f.encoding})`, f.counts)),
    line('total', r.total),
    '',
    changed === 0
      ? `変更はありません / nothing ${r.dryRun ? 'would change' : 'changed'} (0 created, 0 updated, 0 requested)`
      : `${r.dryRun ? '変更予定 / would change' : '変更 / changed'}: ${r.total.created} created, ${r.total.updated} updated, ${r.total.requested} requested (a grant or terminal request awaits a second person)`,
    ...(notImported.length > 0
      ? [
          '',
          `取り込まなかった行 / rows not imported (${notImported.length}):`,
          ...notImported.map((x) => `  ${x.name}:${x.line}  ${OUTCOME_WORDS[x.outcome]}  ${x.subject}  ${rule(x)}${x.detail}`),
        ]
      : []),
    ...(skipped.length > 0
      ? ['', `対象外の行 / rows skipped (${skipped.length}):`, ...skipped.map((x) => `  ${x.name}:${x.line}  ${x.subject}  ${rule(x)}${x.detail}`)]
      : []),
    ...(changes.length > 0
      ? [
          '',
          `${r.dryRun ? '変更予定' : '変更'} / ${r.dryRun ? 'would change' : 'changes'}:`,
          ...changes.map((x) => `  ${x.name}:${x.line}  ${OUTCOME_WORDS[x.outcome]}  ${x.subject}  ${x.detail}`),
        ]
      : []),
  ];
  return `${out.join('\n')}\n`;
}

/** The JSON output: the result with instants as ISO 8601 and each rule's words beside it. */
export function importJson(r: ImportResult): string {
  return `${JSON.stringify(
    {
      ...r,
      at: r.at.toISOString(),
      rows: r.rows.map((x) => ({ ...x, ruleText: x.rule === null ? null : IMPORT_RULE_LABELS[x.rule] })),
    },
    null,
    2,
  )}\n`;
}

/**
 * `gridwall import`: the legacy registers into this gridwall (governance/legacy-import.ts). The operator names
 * their own account, which must hold access.admin: the import's acts are theirs in the governance log, and the
 * grant requests it makes wait for a second person. Exit 0 when the run completed — refused and rejected rows
 * are listed and counted, as `grants check` reports violations —, 2 when a file or an argument cannot be used,
 * 3 when the operator may not import.
 */
export async function runImport(
  config: Config,
  opts: Partial<Record<RegisterFile, string>> & { operator: string; dryRun: boolean; format: 'table' | 'json'; out?: string },
  io: CliIo,
): Promise<number> {
  const sources: RegisterSources = {};
  for (const f of REGISTER_FILES) {
    const path = opts[f];
    if (path !== undefined) sources[f] = path;
  }
  if (Object.keys(sources).length === 0) throw new UsageError('give at least one register: --staff, --terminals, --permissions, --grants');
  const db = await openStore(config.store);
  try {
    const at = new Date();
    const operator = await importOperator(db, opts.operator, at);
    if (operator === null) throw new UsageError(`--operator ${opts.operator}: no enabled person's account with that user ID`);
    if (operator === 'not_permitted')
      throw new GrantRefusal('not_permitted', `${opts.operator} holds no access.admin in force: importing the registers is access administration`);
    const result = await importRegisters(db, operator, sources, { dryRun: opts.dryRun, at, sod: config.separationOfDuties, osUser: userInfo().username });
    const text = opts.format === 'json' ? importJson(result) : importTable(result);
    if (opts.out === undefined) io.stdout.write(text);
    else writeFileSync(opts.out, text);
    const notImported = result.total.refused + result.total.rejected;
    if (notImported > 0)
      io.stderr.write(`import: ${notImported} rows not imported (refused ${result.total.refused}, rejected ${result.total.rejected}; listed in the output)\n`);
    return EXIT.ok;
  } finally {
    await db.close();
  }
}
