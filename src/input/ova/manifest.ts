/**
 * An OVA's `.mf` manifest: its checksum lines parsed, and the files they
 * name verified (inside the OVA directory only) before anything else is read,
 * so a corrupt download fails early.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { SourceError } from '../../errors.js';
import { containedPath, errnoCode, openChecked, WrongFileKind } from '../../host/local-files.js';

/** Digest algorithms a manifest may use, as node:crypto names them, with their hex length. */
const ALGORITHMS: Readonly<Record<string, number>> = { sha1: 40, sha256: 64, sha512: 128 };

const MANIFEST_LINE_RE = /^([A-Za-z0-9-]+)\s*\((.+)\)\s*=\s*([0-9A-Fa-f]+)$/;

/** One checked line of a `.mf` manifest. */
export interface ManifestEntry {
  /** node:crypto algorithm name: sha1, sha256 or sha512. */
  algorithm: string;
  /** File name relative to the manifest's directory. */
  file: string;
  /** Expected digest, lower-case hex. */
  digest: string;
}

/** What {@link parseManifest} found: the entries to check and the lines it could not use. */
export interface Manifest {
  entries: ManifestEntry[];
  warnings: string[];
}

/** Parses `.mf` text (`SHA1(file)= hex`, `SHA256(file)= hex` lines); unusable lines become warnings. */
export function parseManifest(text: string, mfPath: string): Manifest {
  const entries: ManifestEntry[] = [];
  const warnings: string[] = [];
  text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .forEach((raw, index) => {
      const line = raw.trim();
      if (line === '') return;
      const m = MANIFEST_LINE_RE.exec(line);
      const algorithm = m?.[1]?.toLowerCase() ?? '';
      const digest = m?.[3]?.toLowerCase() ?? '';
      if (!m?.[2] || ALGORITHMS[algorithm] !== digest.length) {
        warnings.push(`line ${index + 1} of ${mfPath} is not a SHA1, SHA256 or SHA512 checksum line; it is not checked`);
        return;
      }
      const file = m[2];
      if (path.isAbsolute(file) || file.split(/[\\/]/).includes('..')) {
        throw new SourceError(`The manifest ${mfPath} lists "${file}", which is outside the OVA: the OVA is malformed, export it again.`);
      }
      entries.push({ algorithm, file, digest });
    });
  return { entries, warnings };
}

/** A regular file's digest in lower-case hex, computed by streaming it; anything else throws {@link WrongFileKind} before a read. */
export async function fileDigest(file: string, algorithm: string): Promise<string> {
  const { handle } = await openChecked(file, { noFollow: true });
  const hash = createHash(algorithm);
  await pipeline(handle.createReadStream(), hash);
  return hash.digest('hex');
}

/**
 * Checks each entry against the files in `dir`. A file that resolves
 * outside `root` or is not a regular file, or a mismatch, is a SourceError
 * naming the file; a listed file that does not exist is only a warning
 * (returned): VMware's exports list files they leave out (virt-v2v warns
 * too), and a disk the OVF needs is checked for itself.
 */
export async function verifyManifest(dir: string, entries: ManifestEntry[], mfPath: string, ovaLabel = dir, root = dir): Promise<string[]> {
  const warnings: string[] = [];
  for (const entry of entries) {
    const file = path.join(dir, entry.file);
    let actual: string;
    try {
      const { real, inside } = await containedPath(root, file);
      if (!inside) {
        throw new SourceError(
          `The manifest ${mfPath} lists ${entry.file}, which resolves to ${real}, outside ${ovaLabel}: the OVA is malformed, export it again.`,
        );
      }
      actual = await fileDigest(real, entry.algorithm);
    } catch (error) {
      if (error instanceof SourceError) throw error;
      if (error instanceof WrongFileKind) {
        throw new SourceError(
          `The manifest ${mfPath} lists ${entry.file}, which is ${error.kind} in ${ovaLabel}, not a regular file: the OVA is malformed, export it again.`,
        );
      }
      if (errnoCode(error) === 'ENOENT') {
        warnings.push(`the manifest ${mfPath} lists ${entry.file}, which is not in ${ovaLabel}; it is not checked`);
        continue;
      }
      throw new SourceError(
        `The manifest ${mfPath} lists ${entry.file}, which cannot be read in ${ovaLabel} (${errnoCode(error)}): the OVA is incomplete, export it again.`,
      );
    }
    if (actual !== entry.digest) {
      throw new SourceError(
        `${entry.file} in ${ovaLabel} does not match its ${entry.algorithm.toUpperCase()} checksum in the manifest: the OVA is corrupt, download or export it again.`,
      );
    }
  }
  return warnings;
}
