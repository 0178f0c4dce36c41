/**
 * Signs of life: while a stage runs and nothing has been reported for
 * `intervalMs` (10 s), an `info` event says which stage is running and for
 * how long, and the line renderer's log gets the same line, so a long
 * initramfs rebuild is not silence in a piped log or a JSON stream.
 */
import { clock } from './events.js';
import { emitEvent, onEvent } from './reporter.js';

/** How often at most the run may be silent. */
export const HEARTBEAT_MS = 10_000;

/** Starts the heartbeat; `print` writes a human line (line renderer only). Returns the stop function. */
export function startHeartbeat(print: ((line: string) => void) | undefined, intervalMs = HEARTBEAT_MS): () => void {
  let stage: { key: string; title: string; started: number } | undefined;
  let lastActivity = Date.now();
  const off = onEvent((event) => {
    if (event.type === 'trace') return; // commands are not news for a reader waiting on a stage
    lastActivity = Date.now();
    if (event.type === 'message' && event.phase === 'start' && event.stage !== undefined)
      stage = { key: event.stage, title: event.message, started: Date.now() };
    else if (event.type === 'message' && event.phase !== undefined && event.phase !== 'start') stage = undefined;
  });
  const timer = setInterval(
    () => {
      const now = Date.now();
      if (stage === undefined || now - lastActivity < intervalMs) return;
      const message = `still working: ${stage.title} (${Math.round((now - stage.started) / 1000)} s)`;
      emitEvent({ type: 'info', message }); // sets lastActivity through the listener above
      print?.(`… [${clock()}] ${message}`);
    },
    Math.min(1_000, intervalMs),
  );
  timer.unref();
  return () => {
    clearInterval(timer);
    off();
  };
}
