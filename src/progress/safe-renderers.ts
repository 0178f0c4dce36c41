/**
 * The task renderers with every title, output, error and skip message passed
 * through the sanitiser (src/text/safe-text.ts) before listr2 formats it:
 * a guest name, a path or a program's message in a title is shown escaped,
 * while the icons and colours listr2 adds afterwards are its own and stay.
 * The tasks keep the original strings: progress events (JSON) carry them.
 */
import { DefaultRenderer, LISTR_LOGGER_STDERR_LEVELS, ListrLogger, type ListrLoggerOptions, type LoggerFieldOptions } from 'listr2';
import { safeText } from '../text/safe-text.js';

type Field = NonNullable<LoggerFieldOptions['prefix']>;

/** A prefix or suffix with its text escaped; functions (timestamps, timers) are listr2's and stay. */
function safeField(field: Field): Field {
  if (Array.isArray(field)) return field.map((f) => safeField(f) as Exclude<Field, unknown[]>);
  if (typeof field === 'string') return safeText(field);
  return typeof field.field === 'string' ? { ...field, field: safeText(field.field) } : field;
}

/**
 * listr2's logger, used by the line renderers (piped output and the run's
 * log): every message and text field is escaped before the icons, colours
 * and timestamp are added.
 */
export class SafeListrLogger<Levels extends string = string> extends ListrLogger<Levels> {
  constructor(options?: ListrLoggerOptions<Levels>) {
    super({ useIcons: true, toStderr: LISTR_LOGGER_STDERR_LEVELS, ...options });
  }

  protected override format(level: Levels, message: string | unknown[], options?: LoggerFieldOptions): string {
    const text = Array.isArray(message) ? message.map((m) => (typeof m === 'string' ? safeText(m) : m)) : safeText(String(message));
    const fields: LoggerFieldOptions | undefined = options && {
      ...(options.prefix !== undefined ? { prefix: safeField(options.prefix) } : {}),
      ...(options.suffix !== undefined ? { suffix: safeField(options.suffix) } : {}),
    };
    return super.format(level, text, fields);
  }
}

/**
 * The live task list (a terminal): DefaultRenderer, whose every title and
 * output line passes through `format` as plain text before the icon is put
 * in front of it. With the options the pipeline sets (no timer, no skip or
 * retry suffixes) that text holds nothing of listr2's own.
 */
export class SafeDefaultRenderer extends DefaultRenderer {
  protected override format(message: string, icon: string, level: number): string[] {
    return super.format(safeText(message), icon, level);
  }
}
