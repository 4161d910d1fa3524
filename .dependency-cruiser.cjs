/**
 * The import graph gridwall keeps (docs/ARCHITECTURE.md). `npm run depcheck` runs it; CI runs it through
 * .ci/run. There is no list of tolerated violations: any edge these rules forbid fails.
 */
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'A cycle makes two modules one: split the idea they share.', from: {}, to: { circular: true } },
    {
      name: 'domain-is-pure',
      severity: 'error',
      comment: 'src/domain is the policy and its rules: no I/O, nothing from the layers around it.',
      from: { path: '^src/domain/' },
      to: { path: '^src/(?!domain/)' },
    },
    {
      name: 'contract-only-domain',
      severity: 'error',
      comment: 'The HTTP contract is read by the server and, as types, by the console: it builds on zod and the domain only.',
      from: { path: '^src/contract/' },
      to: { path: '^src/(?!(domain|contract)/)' },
    },
    {
      name: 'routes-not-app',
      severity: 'error',
      comment: 'Routes take their context from api/context.ts; only app.ts assembles them.',
      from: { path: '^src/api/(?!app\\.ts$)' },
      to: { path: '^src/api/app\\.ts$' },
    },
    {
      name: 'customer-store-by-firewall',
      severity: 'error',
      comment: 'Customer rows are read by the firewall only (principle 1); the demo generator writes them.',
      from: { path: '^src/', pathNot: '^src/(firewall|store|demo)/' },
      to: { path: '^src/store/customer-store\\.ts$' },
    },
    {
      name: 'identity-not-governance',
      severity: 'error',
      comment: 'Governance builds on identity; identity needs from governance only what the app injects (grant revocations on a move).',
      from: { path: '^src/identity/' },
      to: { path: '^src/governance/' },
    },
    {
      name: 'firewall-not-analysis',
      severity: 'error',
      comment: 'The firewall decides and logs; findings reach it through an injected sink, not an import.',
      from: { path: '^src/firewall/' },
      to: { path: '^src/analysis/' },
    },
    {
      name: 'no-upward-from-store',
      severity: 'error',
      comment: 'The store is below every service: it does not import them.',
      from: { path: '^src/store/' },
      to: { path: '^src/(api|cli|firewall|identity|analysis|audit|governance)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    includeOnly: '^src/',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
