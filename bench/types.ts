/**
 * The shapes compare-virt-v2v.ts measures with and hands to large-guest.ts
 * (its helpers, BenchHelpers), in their own module so that neither imports
 * the other's types (no import circle).
 */

/** Groups both tools' stages fall into, for a side-by-side table. */
export const GROUPS = ['setup', 'inspect', 'convert', 'trim', 'copy', 'output', 'exit'] as const;

/** One of GROUPS. */
export type Group = (typeof GROUPS)[number];

/** Seconds per stage group: every one of GROUPS, and any other group a stage fell into. */
export type Groups = Record<Group, number> & Record<string, number>;

/** What to run: the command, extra environment, and which node process is v2v's (for its peak memory). */
export interface ToolSpec {
  argv: string[];
  env: Record<string, string>;
  nodeMatch?: RegExp;
}

/** A ToolSpec with where its output goes. */
export interface RunSpec extends ToolSpec {
  logFile: string;
}

/** One stdout line of a run, stamped with its arrival (s since spawn). */
export interface StampedLine {
  t: number;
  line: string;
}

/** What runTool measured of one run. */
export interface ToolRun {
  wall: number;
  /** Date.now() at spawn. */
  epoch: number;
  lines: StampedLine[];
  load: number;
  loadEnd: number;
  /** Processes the run left behind (stopped): "PID (comm)". */
  leftovers: string[];
  peakTreeKiB: number;
  peakNodeKiB: number;
  /** /usr/bin/time's %M, when it ran. */
  maxProcKiB: number | undefined;
  peakByName: Map<string, number>;
}

/** A stage's start (s since spawn). */
export interface StageStart {
  t: number;
  title: string;
  group: string;
}

/** A stage with its duration. */
export interface Stage extends StageStart {
  seconds: number;
}

/** An info line (s since spawn). */
export interface Info {
  t: number;
  text: string;
}

/** An external command from a trace event, timed to the next event. */
export interface TracedCommand {
  stage: string | undefined;
  text: string;
  seconds: number;
}

/** Stage starts parsed from a run's output or events. */
export interface ParsedStages {
  starts: StageStart[];
  infos: Info[];
  commands?: TracedCommand[];
  /** When the last stage ended, when known. */
  end?: number;
  /** Where the stages came from. */
  source: string;
}

/** What settleMemory did before a timed copy. */
export interface Settled {
  dropped: boolean;
  waited: number;
  reportedMiB: number;
}

/** compare-virt-v2v's helpers, handed to the large-guest benchmark so both measure the same way. */
export interface BenchHelpers {
  ROOT: string;
  sh(program: string, args: string[], quiet?: boolean, env?: Record<string, string>): string;
  dropCaches(): boolean;
  settleMemory(): Promise<Settled>;
  flushToStorage(path: string): Promise<void>;
  runCompared(tool: string, what: string, spec: RunSpec): Promise<ToolRun | undefined>;
  v2vStarts(run: ToolRun, eventsFile?: string): ParsedStages;
  virtV2vStarts(run: ToolRun): ParsedStages;
  durations(starts: StageStart[], end: number | undefined, wall: number): { stages: Stage[]; groups: Groups };
}
