/**
 * Samples every process's argv (/proc/PID/cmdline, what `ps` shows) while a
 * run goes, so tests can assert that no credential ever appeared in one.
 */
import { readdir, readFile } from 'node:fs/promises';

/** Starts sampling every `intervalMs`; stop() returns every distinct argv seen. */
export function watchArgv(intervalMs = 200) {
  const seen = new Set();
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      for (const pid of await readdir('/proc').catch(() => [])) {
        if (!/^\d+$/.test(pid)) continue;
        const raw = await readFile(`/proc/${pid}/cmdline`).catch(() => undefined);
        if (raw && raw.length > 0) seen.add(raw.toString('utf8').split('\0').join(' ').trim());
      }
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return [...seen];
    },
  };
}
