// ESLint: typescript-eslint's recommended rules with type information, plus
// the type-aware rules that catch real mistakes in this code (promises left
// floating, awaiting a non-promise, unsafe template values). Formatting is
// prettier's (eslint-config-prettier turns off the rules it owns).
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'test/fixtures/**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { project: './tsconfig.test.json', tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    // Nothing a source says reaches the terminal raw (docs/architecture.md):
    // every human-readable line goes through printOut/printErr, which escape
    // it (src/text/safe-text.ts); the task renderers and the run log escape
    // their own (src/progress/safe-renderers.ts, src/progress/run-log.ts).
    files: ['src/**/*.ts', 'stages/**/*.ts', 'drivers/**/*.ts'],
    ignores: ['src/text/safe-text.ts'],
    rules: {
      'no-console': 'error',
      'no-restricted-syntax': [
        'error',
        {
          selector: "MemberExpression[object.object.name='process'][object.property.name=/^(stdout|stderr)$/][property.name='write']",
          message: 'Write with printOut/printErr (src/text/safe-text.ts): they escape what a source could say.',
        },
      ],
    },
  },
  {
    // Tests read JSON documents and mock values to assert on them: the
    // no-unsafe-* rules would ask for a type on every expect() argument.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // Tests look for escape sequences in output on purpose.
      'no-control-regex': 'off',
      // Fakes implement async interfaces without awaiting; vitest's expect(obj.method) is not a call.
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { ...tseslint.configs.disableTypeChecked.languageOptions, globals: globals.node },
  },
  prettier,
);
