#!/usr/bin/env node
// Writes v2v's bash completion script (what `v2v completion` prints) to
// share/bash-completion/completions/v2v, the file the npm package ships
// (npm run prepack runs this after the build). Installed globally, the
// package keeps it at $(npm root -g)/v2v/share/bash-completion/completions/v2v:
// bash-completion >= 2.12 finds it there by itself (it looks beside the real
// path of the command's bin/); scripts/setup.sh --install links it into
// $(npm prefix -g)/share/bash-completion/completions/v2v for older ones
// (Debian 12 has 2.11). See docs/install.md.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const target = join(root, 'share/bash-completion/completions/v2v');
// yargs prints its zsh script when $SHELL is zsh: ask for bash's.
const script = execFileSync(process.execPath, [join(root, 'bin/v2v.js'), 'completion'], {
  encoding: 'utf8',
  env: { ...process.env, SHELL: '/bin/bash' },
});
if (!script.includes('complete -o bashdefault -o default -F _v2v_yargs_completions v2v')) {
  throw new Error(`write-completion: unexpected output of "v2v completion":\n${script}`);
}
mkdirSync(dirname(target), { recursive: true });
writeFileSync(target, script);
console.error(`write-completion: ${target}`);
