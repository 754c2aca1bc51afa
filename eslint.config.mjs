// Lint: strict TypeScript rules plus the import boundaries of DESIGN.md, so a
// wrong import fails `npm test`.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const NODE_BUILTINS = ['fs', 'path', 'crypto', 'http', 'https', 'net', 'os', 'child_process', 'worker_threads', 'stream', 'url', 'util', 'events', 'dns', 'tls', 'zlib'];
const ban = (patterns, message) => patterns.map((group) => ({ group: [group], message }));

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', '.data/**', 'scripts/**/*.mjs', 'eslint.config.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'separate-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    // node:test's describe/it return promises the runner tracks itself.
    rules: { '@typescript-eslint/no-explicit-any': 'off', '@typescript-eslint/no-floating-promises': 'off' },
  },
  // engine/: pure. Nothing of ours outside it, no I/O libraries, no Node built-ins.
  {
    files: ['engine/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        ...ban(['../*', '!./*'], 'engine/ imports nothing of ours outside engine/'),
        ...ban(['typeorm', 'pg', 'express', 'nodemailer', '@slack/*', '@temporalio/*', 'pino'], 'engine/ is pure: no I/O libraries'),
        ...ban(['node:*', ...NODE_BUILTINS], 'engine/ is pure: no Node built-ins'),
      ] }],
      'no-restricted-syntax': ['error',
        { selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']", message: 'engine/ reads no clock: take `now` as input' },
        { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'engine/ reads no clock: take `now` as input' },
        { selector: "CallExpression[callee.object.name='Math'][callee.property.name='random']", message: 'engine/ is deterministic: no randomness' },
      ],
    },
  },
  // workflows/: deterministic sandbox. Only engine/, @temporalio/workflow and `import type`.
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['../entities/*', '../entities', '../services/*', '../api/*', '../worker/*', '../config', '../config/*'], message: 'workflows/ import only engine/, @temporalio/workflow and types' },
        { group: ['../activities/*'], allowTypeImports: true, message: 'workflows/ import activities with `import type` only' },
        ...ban(['@temporalio/client', '@temporalio/worker', '@temporalio/activity', 'typeorm', 'pg', 'express', 'nodemailer', 'pino', 're2'], 'workflows/ run in the deterministic sandbox: no I/O libraries'),
        ...ban(['node:*', ...NODE_BUILTINS], 'workflows/ run in the deterministic sandbox: no Node built-ins'),
      ] }],
    },
  },
  // Nothing imports api/ (but tests); services never reach up to api/, worker/ or activities/.
  {
    files: ['engine/**/*.ts', 'entities/**/*.ts', 'services/**/*.ts', 'activities/**/*.ts', 'worker/**/*.ts', 'workflows/**/*.ts', 'config/**/*.ts', 'cli/**/*.ts', 'sdk/**/*.ts'],
    ignores: ['engine/**/*.ts', 'workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['../api', '../api/*', '../../api/*'], message: 'nothing imports api/' }] }],
    },
  },
  {
    files: ['services/**/*.ts', 'entities/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['../api', '../api/*', '../activities/*', '../worker/*'], message: 'services/ and entities/ sit below api/, activities/ and worker/' }] }],
    },
  },
  {
    files: ['api/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['../activities/*', '../../activities/*', '../worker/*', '../../worker/*'], message: 'api/ never imports activities/ or worker/' }] }],
    },
  },
);
