/**
 * `v2v batch` on real conversions: three guests, two good (both -o local,
 * real conversions of the Debian 12 VMware guest, run two at a time) and one
 * bad (a VMX naming a missing disk). The bad one fails without stopping the
 * others; the summary and the JSON report say so; each guest has a clean log
 * and an events file; a rerun (from the same manifest written as YAML) skips
 * the two converted guests and fails the bad one again. A fourth entry names
 * a source file that does not exist: it is refused before the first guest
 * starts. Each entry's name is its output name (-on).
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureFixture, type Fixture } from '../helpers/fixture.js';
import { runLogPattern, runLogs, splitOutputDir } from '../helpers/run-log.js';
import { runV2v, sha256, type V2vRun } from '../helpers/v2v.js';

const MINUTE = 60_000;

interface Report {
  exitCode: number;
  jobs: number;
  guests: Array<{
    name: string;
    status: string;
    exitCode?: number;
    error?: string;
    log?: string;
    runLog?: string;
    events?: string;
    files: string[];
    startedAt?: string;
    finishedAt?: string;
    seconds?: number;
  }>;
}

let fixture: Fixture;
let sourceHash: string;
let work: string;
let first: V2vRun;
let report: Report;

beforeAll(async () => {
  fixture = await ensureFixture();
  sourceHash = await sha256(fixture.vmdk);
  work = await mkdtemp(join(tmpdir(), 'v2v-e2e-batch-'));
  await mkdir(join(work, 'out-a'));
  await mkdir(join(work, 'out-b'));
  await writeFile(
    join(work, 'missing.vmx'),
    'displayName = "broken"\nscsi0.present = "TRUE"\nscsi0:0.present = "TRUE"\nscsi0:0.fileName = "nowhere.vmdk"\n',
  );
  await writeFile(
    join(work, 'guests.json'),
    JSON.stringify(
      {
        guests: [
          { name: 'good-a', input: { mode: 'vmx', paths: [fixture.vmx] }, output: { mode: 'local', storage: 'out-a' } },
          { name: 'bad', input: { mode: 'vmx', paths: ['missing.vmx'] }, output: { mode: 'local', storage: 'out-a' } },
          {
            name: 'good-b',
            input: { mode: 'vmx', paths: [fixture.vmx] },
            output: { mode: 'local', storage: 'out-b', format: 'qcow2', name: 'good-b' },
          },
          { name: 'absent', input: { mode: 'vmx', paths: ['absent.vmx'] }, output: { mode: 'local', storage: 'out-b' } },
        ],
      },
      null,
      2,
    ),
  );
  // The same manifest as YAML, for the rerun: same guests, same options.
  await writeFile(
    join(work, 'guests.yaml'),
    [
      '# v2v batch manifest',
      'guests:',
      '  - name: good-a',
      '    input:',
      '      mode: vmx',
      `      paths: ["${fixture.vmx}"]`,
      '    output:',
      '      mode: local',
      '      storage: out-a',
      '  - name: bad',
      '    input:',
      '      mode: vmx',
      '      paths:',
      '        - missing.vmx',
      '    output:',
      '      mode: local',
      "      storage: 'out-a'",
      '  - name: good-b',
      '    input:',
      '      mode: vmx',
      `      paths: [${fixture.vmx}]`,
      '    output:',
      '      mode: local',
      '      storage: out-b   # relative to the manifest',
      '      format: qcow2',
      '      name: good-b',
      '  - name: absent',
      '    input: { mode: vmx, paths: [absent.vmx] }',
      '    output: { mode: local, storage: out-b }',
      '',
    ].join('\n'),
  );
  // FORCE_COLOR set on purpose: a guest's log is a file and must stay free of colours anyway.
  first = await runV2v(['batch', join(work, 'guests.json'), '--jobs', '2'], { FORCE_COLOR: '1' });
  report = JSON.parse(await readFile(join(work, 'guests.v2v-batch', 'report.json'), 'utf8')) as Report;
}, 60 * MINUTE);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('v2v batch with two good guests and a bad one, --jobs 2', () => {
  it('converts the good ones, fails the bad one, exits 6', () => {
    console.log(`batch took ${first.seconds.toFixed(1)} s`);
    expect(first.exitCode, `${first.stdout}\n${first.stderr}`).toBe(6);
    expect(report.exitCode).toBe(6);
    expect(report.jobs).toBe(2);
    expect(report.guests.map((g) => [g.name, g.status, g.exitCode])).toEqual([
      ['good-a', 'converted', 0],
      ['bad', 'failed', 4],
      ['good-b', 'converted', 0],
      ['absent', 'invalid', 2],
    ]);
    expect(report.guests[1]!.error).toContain('nowhere.vmdk');
    expect(report.guests[3]!.error).toBe(`The source ${join(work, 'absent.vmx')} does not exist: check the path given to -i vmx.`);
  });

  it("refused the missing source before the first guest started, and showed each guest's stages", () => {
    const lines = first.stdout.split('\n');
    const refused = lines.findIndex((l) => /absent: invalid: The source .*absent\.vmx does not exist/.test(l));
    const firstStart = lines.findIndex((l) => /: started \(log /.test(l));
    expect(refused).toBeGreaterThanOrEqual(0);
    expect(refused).toBeLessThan(firstStart);
    for (const guest of ['good-a', 'good-b']) {
      for (const stage of ['source', 'inspect', 'convert', 'copy', 'output']) {
        expect(lines.some((l) => l.includes(`] ${guest}: ${stage}: `))).toBe(true);
      }
    }
  });

  it('ran the two good guests at the same time', () => {
    const [a, , b] = report.guests;
    expect(Date.parse(b!.startedAt!)).toBeLessThan(Date.parse(a!.finishedAt!));
  });

  it('prints a summary table', () => {
    expect(first.stdout).toMatch(/^GUEST\s+STATUS\s+EXIT\s+TIME/m);
    expect(first.stdout).toMatch(/^good-a\s+converted\s+0\s+[\d.]+ s/m);
    expect(first.stdout).toMatch(/^bad\s+failed\s+4\s/m);
    expect(first.stdout).toMatch(/^good-b\s+converted\s+0\s/m);
    expect(first.stdout).toContain('2 converted, 0 skipped (already converted), 2 failed.');
  });

  it('wrote the targets, a clean log and an events file per guest', async () => {
    // The entry's name is the output name, as the summary says.
    // And each guest's own run log (the trace included) next to its output; bad's too (it shares out-a).
    const outA = (await readdir(join(work, 'out-a'))).sort();
    expect(outA.filter((e) => !runLogPattern().test(e))).toEqual(['good-a-sda', 'good-a.xml']);
    expect(outA).toHaveLength(4);
    const [goodA, bad, goodB] = report.guests;
    expect(await runLogs(join(work, 'out-a'), 'good-a')).toEqual([goodA!.runLog]);
    expect(await runLogs(join(work, 'out-a'), 'bad')).toEqual([bad!.runLog]);
    const b = await splitOutputDir(join(work, 'out-b'), 'good-b');
    expect(b.files).toEqual(['good-b-sda', 'good-b.xml']);
    expect(b.log).toBe(goodB!.runLog);
    for (const guest of [goodA!, goodB!]) {
      const text = await readFile(guest.runLog!, 'utf8');
      expect(text).toMatch(new RegExp(`^Finished converting ${guest.name} in `, 'm'));
      expect(text).toMatch(/^\[\d\d:\d\d:\d\d\] \+ qemu-img convert /m);
      // The summary table lists it.
      expect(first.stdout).toMatch(
        new RegExp(`^${guest.name}\\s+converted\\s+0\\s+[\\d.]+ s\\s+${guest.runLog!.replace(/[.+]/g, '\\$&')}$`, 'm'),
      );
    }
    expect(await readFile(bad!.runLog!, 'utf8')).toMatch(/^\[\d\d:\d\d:\d\d\] v2v: error: .*nowhere\.vmdk/m);
    expect(first.stdout).toMatch(
      new RegExp(`^bad\\s+failed\\s+4\\s.*nowhere\\.vmdk.* \\(${bad!.runLog!.replace(/[.+]/g, '\\$&')}\\)$`, 'm'),
    );
    expect(report.guests[0]!.files).toEqual([join(work, 'out-a', 'good-a.xml'), join(work, 'out-a', 'good-a-sda')]);
    for (const guest of report.guests.filter((g) => g.status !== 'invalid')) {
      const log = await readFile(guest.log!, 'utf8');
      expect(log).not.toMatch(/\u001b|\r/);
      expect(log).toMatch(/^(❯|✔|✖) \[\d\d:\d\d:\d\d\] Setting up the source/m);
      const events = (await readFile(guest.events!, 'utf8'))
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(events.at(-1)).toMatchObject({ type: 'result', exitCode: guest.exitCode });
    }
    expect(await readFile(report.guests[0]!.log!, 'utf8')).toMatch(/^Finished converting good-a in /m);
    expect(await readFile(report.guests[1]!.log!, 'utf8')).toMatch(/^v2v: error: .*nowhere\.vmdk/m);
  });

  it('a rerun (same manifest as YAML) skips the converted guests and retries the failed one', async () => {
    const again = await runV2v(['batch', join(work, 'guests.yaml'), '--jobs', '2']);
    expect(again.exitCode, `${again.stdout}\n${again.stderr}`).toBe(6);
    expect(again.seconds).toBeLessThan(60);
    const second = JSON.parse(await readFile(join(work, 'guests.v2v-batch', 'report.json'), 'utf8')) as Report;
    expect(second.guests.map((g) => [g.name, g.status])).toEqual([
      ['good-a', 'skipped'],
      ['bad', 'failed'],
      ['good-b', 'skipped'],
      ['absent', 'invalid'],
    ]);
    expect(again.stdout).toContain('2 skipped (already converted), 2 failed.');
    // And a third run still skips them: "skipped" counts as converted.
    const third = await runV2v(['batch', join(work, 'guests.json')]);
    expect(third.stdout).toContain('0 converted, 2 skipped');
  });

  it('left the source disk byte-identical', async () => {
    expect(await sha256(fixture.vmdk)).toBe(sourceHash);
  });
});

describe('v2v batch usage errors', () => {
  it('exits 2 on a missing or empty manifest, and on --jobs 0', async () => {
    expect((await runV2v(['batch', '/nonexistent/guests.json'])).exitCode).toBe(2);
    const empty = join(work, 'empty.json');
    await writeFile(empty, '{"guests": []}');
    expect((await runV2v(['batch', empty])).exitCode).toBe(2);
    expect((await runV2v(['batch', empty, '--jobs', '0'])).exitCode).toBe(2);
    expect((await runV2v(['batch'])).exitCode).toBe(2);
  });
});
