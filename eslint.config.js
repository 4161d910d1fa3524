// One lint config, type-aware, zero warnings (docs/style: "one lint config and one formatter"). Prettier owns
// layout; dependency-cruiser owns the import graph (.dependency-cruiser.cjs); this owns what the type checker
// alone does not catch: floating promises, awaited non-promises, `any` leaking out of JSON and libraries,
// misused spreads, unsafe string conversions, and the rules of React hooks in the console.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';

export default tseslint.config(
  { ignores: ['node_modules/', 'web/dist/', 'test-artifacts/', 'reports/', '.scratch/', '.stryker-tmp/'] },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.js', '*.cjs', 'bin/*.js', 'scripts/*.mjs', 'bench/*.mjs'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // node:test's test() and describe() return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite', 'before', 'after'] }] },
      ],
      // Fastify's hooks and handlers are async-or-callback: an async one without `await` is how a hook returns
      // a value or refuses by throwing. The promises themselves are checked by no-floating-promises.
      '@typescript-eslint/require-await': 'off',
      // `_` marks a value taken apart only to leave it out (`const { secret: _, ...rest } = row`).
      '@typescript-eslint/no-unused-vars': ['error', { varsIgnorePattern: '^_', argsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
    },
  },
  {
    // Every file a person opens in a spreadsheet is written by src/spreadsheet/ (issue 19): text inert, IDs text,
    // dates dates. No other code writes a workbook.
    files: ['src/**/*.ts'],
    ignores: ['src/spreadsheet/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['write-excel-file', 'write-excel-file/*'], message: 'write spreadsheets through src/spreadsheet/ (table.ts, xlsx-file.ts)' }] },
      ],
    },
  },
  {
    // Tests read response bodies as untyped JSON on purpose (`res.json().error.code`) and assert on them: a wrong
    // guess fails the test where it runs. The unsafe-`any` rules stay on for the code under test.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    // The two classic rules of hooks; the React Compiler's rules in the plugin's newer presets assume a compiler
    // this console does not use.
    files: ['web/src/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    rules: { 'react-hooks/rules-of-hooks': 'error', 'react-hooks/exhaustive-deps': ['error', { additionalHooks: '^useLoad$' }] },
  },
  {
    files: ['**/*.{js,cjs,mjs}'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', module: 'writable', require: 'readonly' } },
  },
);
