/**
 * Redaction of credentials in any text v2v shows: every message of a typed
 * error, every event, every usage error goes through {@link redactUrl}.
 */

/**
 * Replaces the password of every URL in `text` with "***". The userinfo
 * runs to the last "@" before the host (as URL parsers read it), so a
 * password holding quotes, "@" or ":" is hidden whole.
 */
export function redactUrl(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)([^/\s:@]*):([^/\s]*)@/gi, '$1$2:***@');
}
