import { describe, expect, it } from 'vitest';
import { DETAIL_LINES, formatDetails } from '../../src/progress/verbose.js';

describe('-v details', () => {
  it('formats the argv and the last lines of output, timestamped', () => {
    expect(
      formatDetails(
        'guestfish --remote -- sh update-initramfs',
        'update-initramfs: Generating /boot/initrd.img-6.1.0\n',
        '',
        0,
        '12:00:00',
      ),
    ).toEqual([
      '[12:00:00] = guestfish --remote -- sh update-initramfs (exit code 0)',
      '[12:00:00] = update-initramfs: Generating /boot/initrd.img-6.1.0',
    ]);
    expect(formatDetails('true', '', '', 0, 't')).toEqual([]);
    const long = formatDetails('cat big', Array.from({ length: 50 }, (_, i) => `line ${i}`).join('\n'), '', 0, 't');
    expect(long).toHaveLength(DETAIL_LINES + 2);
    expect(long[1]).toBe('[t] = (30 earlier lines cut)');
    expect(long.at(-1)).toBe('[t] = line 49');
  });
});
