/**
 * `-i ova`: an OVA archive (tar, compressed tar or zip) or a directory holding
 * an exported OVF, its `.mf` manifest and its disks (usually streamOptimized
 * VMDKs, which qemu reads directly). An archive is extracted into the run's
 * temp dir (removed by the pipeline); the manifest checksums are verified
 * before anything else is read, so a corrupt download fails early.
 *
 * Containment: an extracted archive may hold only regular files and
 * directories (archive.ts), and every file the OVF or the manifest names
 * must resolve inside the OVA's directory and be a regular file, checked
 * before it is read; so is every file qemu would open through a disk (see
 * disk-references.ts). The manifest is manifest.ts', the OVF ovf.ts'.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { SourceError } from '../../errors.js';
import type { Source } from '../../model.js';
import type { Input, InputRun } from '../types.js';
import { checkDiskReferences } from '../disk-references.js';
import { errnoCode, METADATA_MAX_BYTES, readMetadataFile, walkTree } from '../../host/local-files.js';
import { gzipFiles, parseOvf } from './ovf.js';
import { checkExtracted, extract, gunzip, insideOva } from './archive.js';
import { parseManifest, verifyManifest } from './manifest.js';
import { capWarnings, withFileWarnings } from '../file-warnings.js';

/** The OVA input module for an archive or a directory. */
export function ovaInput(ovaPath: string): Input {
  return {
    describe: `OVA ${ovaPath}`,
    async load(runCtx: InputRun) {
      let isDir: boolean;
      try {
        isDir = (await stat(ovaPath)).isDirectory();
      } catch (error) {
        throw new SourceError(`Cannot read the OVA ${ovaPath} (${errnoCode(error)}): check the path and permissions.`);
      }
      const dir = isDir ? ovaPath : await extract(ovaPath, runCtx.tmpdir);
      if (!isDir) await checkExtracted(dir, ovaPath);
      return loadOvfDir(dir, ovaPath, runCtx.tmpdir, runCtx.warnings, runCtx.warningsPerFile);
    },
  };
}

/**
 * Reads an unpacked OVA: finds the one .ovf, verifies the manifest, parses
 * the OVF and checks the disks exist; warnings go to `warnings` as found, at
 * most `perFile` about each file (src/input/file-warnings.ts).
 */
async function loadOvfDir(dir: string, ovaPath: string, tmpdir: string, warnings: string[] = [], perFile?: number): Promise<Source> {
  const ovfs = (await walkTree(dir, `the OVA ${ovaPath}`)).map((e) => e.name).filter((f) => /\.ovf$/i.test(f));
  const [ovf] = ovfs;
  if (ovf === undefined || ovfs.length > 1) {
    const found = ovf === undefined ? 'none' : ovfs.join(', ');
    throw new SourceError(
      `The OVA ${ovaPath} must hold exactly one .ovf descriptor but has ${found}: pass an OVA exported from a single VM.`,
    );
  }
  const ovfPath = path.join(dir, ovf);
  const ovfDir = path.dirname(ovfPath);
  const label = dir === ovaPath ? ovfPath : `${ovf} in ${ovaPath}`;

  // Every manifest is checked: an OVA with two cannot pass by confusing which one counts.
  const mfs = (await readdir(ovfDir)).filter((f) => /\.mf$/i.test(f)).sort();
  if (mfs.length === 0) {
    warnings.push(`The OVA ${ovaPath} has no .mf manifest, so its files are not checked for corruption`);
  }
  for (const mf of mfs) {
    const mfPath = await insideOva(dir, path.join(ovfDir, mf), ovaPath);
    const mfLabel = dir === ovaPath ? mfPath : `${mf} in ${ovaPath}`;
    const manifest = parseManifest(await readMetadataFile(mfPath, 'the manifest', METADATA_MAX_BYTES.manifest), mfLabel);
    warnings.push(...capWarnings(manifest.warnings, mfLabel, perFile));
    if (manifest.entries.length === 0) {
      throw new SourceError(`The manifest ${mf} in ${ovaPath} has no checksum line: the OVA is corrupt, download or export it again.`);
    }
    warnings.push(...capWarnings(await verifyManifest(ovfDir, manifest.entries, mf, ovaPath, dir), mfLabel, perFile));
  }

  const ovfText = await readMetadataFile(await insideOva(dir, ovfPath, ovaPath), 'the OVF descriptor', METADATA_MAX_BYTES.ovf);
  const source = withFileWarnings(label, warnings, perFile, (own) => parseOvf(ovfText, ovfDir, label, own));
  source.warnings = warnings;
  const gzipped = gzipFiles(ovfText, label);
  for (const disk of source.disks) {
    const snapshot = await newestNumbered(disk.path);
    if (snapshot !== undefined) {
      warnings.push(
        `${path.relative(ovfDir, disk.path)} is not in ${ovaPath} but ${path.basename(snapshot)} is: the newest numbered file is used, as VMware exports snapshot disks`,
      );
      disk.path = snapshot;
    }
    const name = path.relative(ovfDir, disk.path);
    try {
      await stat(disk.path);
    } catch (error) {
      throw new SourceError(
        `The disk file ${name} named by ${label} is missing (${errnoCode(error)}): the OVA is incomplete, export it again.`,
      );
    }
    const check = {
      root: dir,
      label: `The disk file ${name} in ${ovaPath}`,
      outsideFix: `v2v reads only files inside the source's directory; ${dir === ovaPath ? 'copy the file into the OVF directory instead of linking it' : 're-export the OVA'}`,
      vmdkOnly: false,
    };
    if (gzipped.has(name.split(path.sep).join('/'))) {
      // The compressed file is checked where it is; its content is what qemu reads.
      await checkDiskReferences(disk.path, check);
      disk.path = await gunzip(disk.path, path.join(tmpdir, 'gunzip'), ovaPath);
      check.root = path.dirname(disk.path);
    }
    const format = await checkDiskReferences(disk.path, check);
    if (format !== undefined) disk.format = format;
  }
  return source;
}

/**
 * For a disk file that is missing, its newest numbered sibling
 * (`disk1.vmdk.000000002` over `disk1.vmdk.000000001`), as VMware exports
 * the disks of a VM with snapshots; undefined when the file exists or has
 * no numbered sibling.
 */
export async function newestNumbered(file: string): Promise<string | undefined> {
  if (
    await stat(file).then(
      () => true,
      () => false,
    )
  )
    return undefined;
  const base = path.basename(file);
  const numbered = (await readdir(path.dirname(file)).catch(() => [] as string[]))
    .filter((f) => f.startsWith(`${base}.`) && /^[0-9]+$/.test(f.slice(base.length + 1)))
    .sort((a, b) => Number(a.slice(base.length + 1)) - Number(b.slice(base.length + 1)));
  const newest = numbered.at(-1);
  return newest === undefined ? undefined : path.join(path.dirname(file), newest);
}
