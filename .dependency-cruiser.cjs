/**
 * The layer rule (docs/architecture.md), checked by scripts/test.sh:
 *   CLI (src/cli) → run (src/run) → stages/ → domain (src/input, output,
 *   convert, remote, verify, progress, warm) → drivers/ → base (src/host, src/text,
 *   src/model.ts, src/errors.ts)
 * Each layer imports only the layers below it. Type-only imports count
 * (tsPreCompilationDeps), so a circle through types is a circle too.
 */
const CLI = '^src/cli/';
const RUN = '^src/run/';
const STAGES = '^stages/';
const DOMAIN = '^src/(input|output|convert|remote|verify|progress|warm)/';
const DRIVERS = '^drivers/';
const BASE = '^src/(host/|text/|model\\.ts$|errors\\.ts$)';

/** One rule per layer: what it must not import (everything above it). */
function layer(name, from, above) {
  return {
    name: `layer-${name}`,
    comment: `${name} imports only the layers below it (docs/architecture.md)`,
    severity: 'error',
    from: { path: from },
    to: { path: above },
  };
}

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No import circles, type-only imports included: a circle means two modules are one idea, or a type sits in the wrong layer.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    layer('run', RUN, CLI),
    layer('stages', STAGES, [CLI, RUN].join('|')),
    layer('domain', DOMAIN, [CLI, RUN, STAGES].join('|')),
    layer('drivers', DRIVERS, [CLI, RUN, STAGES, DOMAIN].join('|')),
    layer('base', BASE, [CLI, RUN, STAGES, DOMAIN, DRIVERS].join('|')),
    {
      name: 'listr2-only-in-run-stages-progress',
      comment: 'Only the pipeline (src/run), its stages and src/progress know the task renderer.',
      severity: 'error',
      from: { pathNot: '^(stages/|src/run/|src/progress/|test/)' },
      to: { path: 'node_modules/listr2' },
    },
    {
      name: 'yargs-only-in-cli',
      comment: 'The command line is parsed in src/cli only; everything below gets typed options.',
      severity: 'error',
      from: { pathNot: `${CLI}|^test/` },
      to: { path: 'node_modules/(yargs|@types/yargs)' },
    },
    {
      name: 'nothing-imports-test',
      comment: 'Sources and the bench never import test code.',
      severity: 'error',
      from: { pathNot: '^test/' },
      to: { path: '^test/' },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import that resolves to nothing is a typo or a missing dependency.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.test.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
