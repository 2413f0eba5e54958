// What a bench run measures of its processes: RSS, CPU per process and of the whole machine.
import { readFileSync } from 'node:fs';

const RSS_SAMPLE_INTERVAL_MS = 100;

// ---------------------------------------------------------------------------------------------
// Memory

export interface RssSampler {
  /** Starts a named window (e.g. one load phase); the peak is kept per window. */
  mark(window: string): void;
  /** Highest VmRSS sampled (MiB) per window, plus 'all'. */
  peaks(): Record<string, number>;
  /** VmRSS (MiB) when sampling began. */
  readonly startMiB: number;
  /** The kernel's high-water mark (VmHWM, MiB) for the whole life of the process. */
  highWaterMiB(): number;
  stop(): void;
}

/** Samples /proc/<pid>/status VmRSS every 100 ms. */
export function sampleRss(pid: number): RssSampler {
  const peaks: Record<string, number> = { all: 0 };
  let window: string | undefined;
  let lastHwm = 0;
  const sample = () => {
    const status = readStatus(pid);
    if (!status) return;
    lastHwm = Math.max(lastHwm, status.hwmMiB);
    peaks.all = Math.max(peaks.all ?? 0, status.rssMiB);
    if (window) peaks[window] = Math.max(peaks[window] ?? 0, status.rssMiB);
  };
  const timer = setInterval(sample, RSS_SAMPLE_INTERVAL_MS);
  timer.unref();
  sample();
  const startMiB = peaks.all ?? 0;
  return {
    startMiB,
    mark(name) {
      sample();
      window = name;
    },
    peaks: () => ({ ...peaks }),
    highWaterMiB() {
      sample();
      return lastHwm;
    },
    stop: () => clearInterval(timer),
  };
}

function readStatus(pid: number): { rssMiB: number; hwmMiB: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s*(\\d+)\\s*kB`, 'm').exec(text)?.[1] ?? 0);
  return { rssMiB: kib('VmRSS') / 1024, hwmMiB: kib('VmHWM') / 1024 };
}

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of stat (utime, stime) are at 11 and 12 after the command.
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_S;
  } catch {
    return 0;
  }
}
/** USER_HZ; 100 on every Linux this runs on. */
const CLOCK_TICKS_PER_S = 100;

/** Busy CPU seconds of the whole machine (all cores) so far, from /proc/stat. */
export function machineBusySeconds(): number {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal: everything but idle and iowait is busy.
    const busy = cpu.reduce((sum, v, i) => (i === 3 || i === 4 || i > 7 ? sum : sum + v), 0);
    return busy / CLOCK_TICKS_PER_S;
  } catch {
    return 0;
  }
}
