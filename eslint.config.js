import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.cache/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // The core is pure: time and timers come from the injected Clock (core/clock.ts), randomness
    // from an injected source (seeded in tests: core/seeded-random.ts), bytes are Uint8Arrays.
    // The process's real ones live in connector/system/. test/layers.test.ts plants each one.
    files: ['connector/core/**'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'The core reads time from its injected Clock (core/clock.ts).' },
        { object: 'performance', property: 'now', message: 'The core reads time from its injected Clock (core/clock.ts).' },
        { object: 'Math', property: 'random', message: 'The core takes randomness injected (a seeded source in tests).' },
        { object: 'globalThis', message: 'The core reaches no global through globalThis: what it needs is injected.' },
      ],
      'no-restricted-globals': [
        'error',
        ...['setTimeout', 'setInterval', 'setImmediate', 'clearTimeout', 'clearInterval', 'clearImmediate'].map((name) => ({
          name,
          message: "The core schedules through its injected Clock's schedule (core/clock.ts).",
        })),
        { name: 'Buffer', message: "The core handles bytes as Uint8Array (Node's Buffer is a Uint8Array; core/base64.ts encodes)." },
        { name: 'process', message: 'The core reads no environment, arguments or process state: the apps pass what it needs.' },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: "NewExpression[callee.name='Date'][arguments.length=0], CallExpression[callee.name='Date']",
          message: 'The core reads time from its injected Clock (core/clock.ts), never the wall clock through Date.',
        },
        {
          selector: "TSTypeReference[typeName.name='Buffer']",
          message: "The core handles bytes as Uint8Array (Node's Buffer is a Uint8Array; core/base64.ts encodes).",
        },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
  {
    // dependency-cruiser reads its config with require().
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } },
  },
);
