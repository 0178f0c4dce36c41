/**
 * -v: what each command printed (guestfish calls are the guest side: package
 * removal, initramfs rebuild, grub), after its argv, as `=` lines on stderr,
 * cut to the last lines so a file read through guestfish cannot flood the log.
 */

/** Lines of one stream kept per command. */
export const DETAIL_LINES = 20;

/** The detail lines for one command's output (empty when it printed nothing). */
export function formatDetails(argv: string, stdout: string, stderr: string, exitCode: number, time: string): string[] {
  const keep = (text: string): string[] => {
    const lines = text
      .split('\n')
      .map((l) => l.trimEnd())
      .filter((l) => l !== '');
    return lines.length > DETAIL_LINES ? [`(${lines.length - DETAIL_LINES} earlier lines cut)`, ...lines.slice(-DETAIL_LINES)] : lines;
  };
  const out = [...keep(stdout), ...keep(stderr)];
  if (out.length === 0 && exitCode === 0) return [];
  const head = `[${time}] = ${argv.length > 160 ? `${argv.slice(0, 157)}...` : argv} (exit code ${exitCode})`;
  return [head, ...out.map((l) => `[${time}] = ${l}`)];
}
