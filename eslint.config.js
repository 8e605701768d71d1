// Lint: typescript-eslint strict + type-aware rules, layering enforced with no-restricted-imports.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const pluginMayNotImport = ['**/daemon/**', '**/k8s/**', '**/cloud/**', '**/policy/**', '**/templates/**', '@grpc/*', '@kubernetes/*', '@alicloud/*', 'better-sqlite3', 'handlebars', 'prom-client'];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'jest.config.js', 'eslint.config.js', 'test/summary-reporter.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: { parserOptions: { project: ['./tsconfig.test.json'], tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      'no-restricted-syntax': ['error', 'ExportAllDeclaration'],
      'no-console': 'error',
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/lib/exec.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [{ name: 'node:child_process', message: 'Start processes only through src/lib/exec.ts (argv only).' }] }] },
  },
  {
    files: ['src/cni/**/*.ts', 'src/main/cni.ts', 'src/rpc/client.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: pluginMayNotImport }] },
  },
  {
    files: ['src/modes/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['node:*', '**/daemon/**', '**/cni/**', '**/netlink/executor*', '**/lib/exec*'] }] },
  },
  { files: ['src/main/**/*.ts', 'scripts/**/*.ts', 'bench/**/*.ts'], rules: { 'no-console': 'off' } },
  {
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unnecessary-type-parameters': 'off',
      'no-console': 'off',
    },
  },
);
