// The linter holds the house's boundaries (DESIGN.md, "Style to follow"):
// no promise is left floating, workflows import no activity code and nothing
// with I/O, and src/ imports nothing from lab/, bench/ or test/.
// Run by scripts/test.sh (npm test) and alone with `npx eslint`.
import tseslint from 'typescript-eslint';

/** Modules that do I/O or need a live connection: none of them may reach workflow code. */
const IO_MODULES = [
  { group: ['node:*', 'fs', 'fs/*', 'path', 'os', 'child_process', 'net', 'http', 'https', 'stream', 'url', 'util', 'crypto'], message: 'workflow-reachable code does no I/O: pass the result of an activity instead' },
  { group: ['@kubernetes/client-node', 'undici', 'protobufjs'], message: 'Kubernetes and network clients belong to activities (src/activities, src/kube)' },
  { group: ['@temporalio/client', '@temporalio/worker', '@temporalio/activity', '@temporalio/testing'], message: 'workflow-reachable code imports only @temporalio/workflow and @temporalio/common' },
  { group: ['**/activities', '**/activities/*', '**/kube/*', '**/cli/*', '**/worker', '**/telemetry', '**/client'], message: 'workflow-reachable code imports no activity, Kubernetes, CLI or worker code (type imports are fine)' },
];

/** What src/ must never import. */
const OUTSIDE_SRC = { group: ['**/lab/**', '**/lab', '**/bench/**', '**/test/**'], message: 'src/ imports nothing from lab/, bench/ or test/' };

export default tseslint.config(
  { ignores: ['node_modules/**', 'test/histories/**', '**/*.js', '**/*.mjs'] },
  {
    files: ['src/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@typescript-eslint': tseslint.plugin },
    // Directives written for rules this config does not turn on (e.g. no-control-regex) are left alone.
    linterOptions: { reportUnusedDisableDirectives: 'off' },
    rules: {
      // node:test's describe/it/test return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': ['error', { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] }] }],
      '@typescript-eslint/await-thenable': 'error',
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { patterns: [OUTSIDE_SRC] }],
      // import('...') is not covered by the import rules above.
      'no-restricted-syntax': ['error', { selector: "ImportExpression[source.value=/(^|\\/)(lab|bench|test)\\//]", message: OUTSIDE_SRC.message }],
    },
  },
  {
    // The CLI talks to Temporal and renders; it runs no activity code (the worker does).
    files: ['src/client.ts', 'src/cli/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { patterns: [OUTSIDE_SRC, { group: ['**/activities', '**/activities/*'], message: 'the CLI runs no activity code: shared code lives in src/report, src/domain or src/kube', allowTypeImports: true }] }],
    },
  },
  {
    // Workflows and every module they may import: pure code, replayed deterministically.
    files: ['src/workflows/**/*.ts', 'src/domain/**/*.ts', 'src/tools/**/*.ts', 'src/report/**/*.ts', 'src/shared.ts', 'src/config.ts'],
    ignores: ['src/report/files.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { patterns: [OUTSIDE_SRC, ...IO_MODULES.map((p) => ({ ...p, allowTypeImports: true }))] }],
    },
  },
);
