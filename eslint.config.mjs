// Lint rules for every package. Besides the usual TypeScript checks, this enforces the layering
// of DESIGN.md: a package may import only the packages listed for it in scripts/layering.mjs, and
// only through their public entry (never `@tsvisor/x/src/...` or `@tsvisor/x/internal/...`).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { layering, packageDirs } from './scripts/layering.mjs';

const allNames = Object.keys(layering);

/** The restricted-import patterns for one package. */
function layeringRule(name) {
  const forbidden = allNames.filter((other) => other !== name && !layering[name].includes(other));
  return [
    'error',
    {
      patterns: [
        {
          group: ['@tsvisor/*/*'],
          message: 'Import other tsvisor packages only through their public entry point.',
        },
        ...(forbidden.length
          ? [
              {
                group: forbidden.map((f) => `@tsvisor/${f}`),
                message: `@tsvisor/${name} may not import this package (layering in DESIGN.md, scripts/layering.mjs).`,
              },
            ]
          : []),
        {
          group: ['**/packages/*/src/**', '**/apps/*/src/**', '../../packages/**', '../../apps/**'],
          message: 'No relative imports into another package; use its @tsvisor/<name> entry.',
        },
      ],
    },
  ];
}

export default tseslint.config(
  { ignores: ['**/dist/**', '**/build/**', '**/node_modules/**', 'docs/**', '.nx/**', '**/*.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.mts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    files: ['**/*.mjs', '**/*.cjs', '**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
  {
    // CommonJS on purpose (the command's entry: no ES module loader to set up at start).
    files: ['**/*.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { require: 'readonly', module: 'writable', exports: 'writable', __dirname: 'readonly' },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  ...Object.entries(packageDirs).map(([name, dir]) => ({
    files: [`${dir}/**/*.ts`, `${dir}/**/*.mts`],
    rules: { 'no-restricted-imports': layeringRule(name) },
  })),
);
