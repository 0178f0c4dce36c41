/**
 * The per-run log file (src/progress/run-log.ts): its name, where it goes, the
 * refusals of --log-file, lines kept until the path is known, appended as
 * the run goes, never an existing file, and no secret in it. The CLI cases
 * (test/integration/run-log.test.ts) run the built v2v with sources that
 * fail in the source stage, before any appliance.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { normalizeOptions } from '../../src/cli/options.js';
import { checkLogFilePath, defaultLogDirectory, fallbackLogName, LOG_DIR_ENV, logFileName, RunLog } from '../../src/progress/run-log.js';
import { runSummary } from '../../src/run/summary.js';
import { splitOutputDir } from '../helpers/run-log.js';

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'v2v-run-log-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('logFileName', () => {
  it('is NAME-v2v-YYYYMMDD-HHMMSS.log in local time, -N for a second file of the same second', () => {
    const at = new Date(2026, 10, 9, 7, 5, 3); // local time
    expect(logFileName('web01', at)).toBe('web01-v2v-20261109-070503.log');
    expect(logFileName('web01', at, 2)).toBe('web01-v2v-20261109-070503-2.log');
  });
});

describe('defaultLogDirectory', () => {
  it('is the output directory for -o local, qemu and json', () => {
    for (const mode of ['local', 'qemu', 'json'] as const) {
      expect(defaultLogDirectory({ mode, storage: '/srv/out' }, {}, 0)).toEqual({ dir: '/srv/out', create: false });
    }
  });
  it('is a log directory, never the pool, for -o libvirt and -o null', () => {
    for (const mode of ['libvirt', 'null'] as const) {
      expect(defaultLogDirectory({ mode, storage: 'default' }, {}, 0)).toEqual({ dir: '/var/log/v2v', create: true });
      expect(defaultLogDirectory({ mode, storage: 'default' }, { XDG_STATE_HOME: '/home/u/.st' }, 1000)).toEqual({
        dir: '/home/u/.st/v2v',
        create: true,
      });
      expect(defaultLogDirectory({ mode, storage: 'default' }, {}, 1000, '/home/u')).toEqual({
        dir: '/home/u/.local/state/v2v',
        create: true,
      });
      expect(defaultLogDirectory({ mode, storage: 'default' }, { [LOG_DIR_ENV]: '/tmp/logs' }, 0)).toEqual({
        dir: '/tmp/logs',
        create: true,
      });
    }
  });
});

describe('fallbackLogName (the source could not be read)', () => {
  it('is -on, else the source file name without extension, else v2v', () => {
    expect(fallbackLogName('web01', ['/x/a.vmx'])).toBe('web01');
    expect(fallbackLogName(undefined, ['/x/my guest.vmx'])).toBe('my_guest');
    expect(fallbackLogName(undefined, ['https://h/dir/db.vmx'])).toBe('db');
    expect(fallbackLogName(undefined, ['/x/..vmx'])).toBe('v2v');
    expect(fallbackLogName(undefined, [])).toBe('v2v');
  });
});

describe('--log-file and --no-log-file', () => {
  const base = { i: 'vmx', o: 'null', positional: ['/x/g.vmx'] };
  it('refuses, before anything runs, a path that exists (a dangling symlink too) or whose directory does not', async () => {
    const existing = join(work, 'exists.log');
    await writeFile(existing, 'old record\n');
    expect(() => checkLogFilePath(existing)).toThrow(UsageError);
    expect(() => checkLogFilePath(existing)).toThrow(
      `--log-file ${existing} already exists: v2v never overwrites a log; remove it or name a new file.`,
    );
    const dangling = join(work, 'dangling.log');
    await symlink(join(work, 'nowhere'), dangling);
    expect(() => checkLogFilePath(dangling)).toThrow(/already exists/);
    expect(() => normalizeOptions({ ...base, logFile: join(work, 'no-dir', 'x.log') })).toThrow(
      `The directory of --log-file ${join(work, 'no-dir', 'x.log')} does not exist: create ${join(work, 'no-dir')} first, or name a file in an existing directory.`,
    );
    expect(await readFile(existing, 'utf8')).toBe('old record\n');
  });
  it('parses into the log choice', () => {
    expect(normalizeOptions(base).logFile).toEqual({ kind: 'default' });
    expect(normalizeOptions({ ...base, noLogFile: true }).logFile).toEqual({ kind: 'none' });
    expect(normalizeOptions({ ...base, logFile: join(work, 'new.log') }).logFile).toEqual({ kind: 'file', path: join(work, 'new.log') });
    expect(() => normalizeOptions({ ...base, logFile: join(work, 'new.log'), noLogFile: true })).toThrow(
      '--log-file and --no-log-file contradict each other: keep one.',
    );
    expect(() => normalizeOptions({ ...base, logFile: '' })).toThrow(/--log-file needs a path/);
  });
});

describe('RunLog', () => {
  it('keeps lines until its path is known, then appends each line at once (tail -f)', async () => {
    const dir = join(work, 'buffer');
    await mkdir(dir);
    const log = new RunLog(() => undefined);
    log.write('❯ [10:00:00] Setting up the source\n');
    log.write('› [10:00:01] first\nsecond');
    expect(log.waiting).toBe(true);
    expect(await readdir(dir)).toEqual([]);
    const path = log.openInDirectory(dir, 'g', new Date(2026, 0, 2, 3, 4, 5), false);
    expect(path).toBe(join(dir, 'g-v2v-20260102-030405.log'));
    expect(await readFile(path!, 'utf8')).toBe('❯ [10:00:00] Setting up the source\n› [10:00:01] first\nsecond\n');
    log.write('✔ [10:00:02] Setting up the source');
    expect(await readFile(path!, 'utf8')).toMatch(/second\n✔ \[10:00:02\] Setting up the source\n$/); // before close
    log.close();
    log.write('after close');
    expect(await readFile(path!, 'utf8')).not.toContain('after close');
    expect((await stat(path!)).mode & 0o777).toBe(0o600);
  });

  it('never overwrites: a second run in the same second gets -2, a third -3', async () => {
    const dir = join(work, 'same-second');
    await mkdir(dir);
    const at = new Date(2026, 0, 2, 3, 4, 5);
    const paths = [1, 2, 3].map((n) => {
      const log = new RunLog(() => undefined);
      log.write(`run ${n}`);
      const path = log.openInDirectory(dir, 'g', at, false);
      log.close();
      return path;
    });
    expect(paths).toEqual(
      ['g-v2v-20260102-030405.log', 'g-v2v-20260102-030405-2.log', 'g-v2v-20260102-030405-3.log'].map((f) => join(dir, f)),
    );
    expect(await readFile(paths[0]!, 'utf8')).toBe('run 1\n');
  });

  it('creates a missing log directory 0700; a directory it cannot use is one warning, not a failure', async () => {
    const dir = join(work, 'state', 'v2v');
    const made = new RunLog(() => undefined);
    expect(made.openInDirectory(dir, 'g', new Date(), true)).toBeDefined();
    made.close();
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    const warnings: string[] = [];
    const log = new RunLog((w) => warnings.push(w));
    log.write('line');
    await writeFile(join(work, 'not-a-dir'), '');
    expect(log.openInDirectory(join(work, 'not-a-dir'), 'g', new Date(), false)).toBeUndefined();
    log.write('more');
    expect(log.openInDirectory(join(work, 'not-a-dir'), 'g', new Date(), false)).toBeUndefined();
    expect(warnings).toEqual([
      expect.stringMatching(/^no log file written: cannot create one in .*not-a-dir \(ENOTDIR\); the run goes on without it/),
    ]);
    // A missing output directory (-os) is the preflight's error: no warning about the log on top of it.
    const quiet: string[] = [];
    const none = new RunLog((w) => quiet.push(w));
    expect(none.openInDirectory(join(work, 'missing-out'), 'g', new Date(), false)).toBeUndefined();
    expect(quiet).toEqual([]);
  });

  it('removes passwords of URLs and escapes every control character but the line breaks', async () => {
    const file = join(work, 'redact.log');
    const log = new RunLog(() => undefined);
    log.openFile(file);
    log.write('[10:00:00] + curl https://bob:hunter2@esx/folder/x.vmdk');
    log.write('[10:00:01] evil\u001b]0;pwned\u0007\u001b[2J\u001b[31mRED\r\b\u009b\ud800 done\nnext line');
    log.close();
    const text = await readFile(file, 'utf8');
    expect(text).toBe(
      '[10:00:00] + curl https://bob:***@esx/folder/x.vmdk\n' +
        '[10:00:01] evil\\x1b]0;pwned\\x07\\x1b[2J\\x1b[31mRED\\r\\x08\\u009b\\ud800 done\nnext line\n',
    );
    expect(text).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
  });
});

describe('runSummary', () => {
  it('ends with the log file: a detail line in the piped log, "Log: PATH" on a terminal', () => {
    const options = normalizeOptions({ i: 'vmx', o: 'local', os: '/out', positional: ['/x/g.vmx'] });
    expect(runSummary(options, 'g', ['/out/g-sda', '/out/g.xml'], [], false, '10:00:00', '/out/g-v2v-1.log')).toEqual([
      '› [10:00:00] next: virsh define /out/g.xml && virsh start g',
      '› [10:00:00] log: /out/g-v2v-1.log',
    ]);
    expect(
      runSummary(options, 'g', ['/out/g-sda', '/out/g.xml'], ['removed open-vm-tools'], true, '10:00:00', '/out/g-v2v-1.log').at(-1),
    ).toBe('Log: /out/g-v2v-1.log');
  });
});

describe('splitOutputDir (test helper)', () => {
  it('separates the output files from exactly one run log', async () => {
    const dir = join(work, 'split');
    await mkdir(dir);
    await writeFile(join(dir, 'g.xml'), '');
    await writeFile(join(dir, 'g-sda'), '');
    await writeFile(join(dir, 'g-v2v-20260102-030405.log'), '');
    expect(await splitOutputDir(dir, 'g')).toEqual({ files: ['g-sda', 'g.xml'], log: join(dir, 'g-v2v-20260102-030405.log') });
    await writeFile(join(dir, 'g-v2v-20260102-030406.log'), '');
    await expect(splitOutputDir(dir, 'g')).rejects.toThrow(/exactly one run log/);
  });
});
