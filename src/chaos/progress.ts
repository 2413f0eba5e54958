// A progress bar on stderr: redrawn in place on a terminal, a line every 10 s otherwise (CI logs).

const TTY_REDRAW_MS = 500;
const LOG_LINE_MS = 10_000;
const BAR_WIDTH = 30;

export function progressLine(read: () => { done: number; total: number; detail: string }): { stop(): void } {
  const tty = process.stderr.isTTY === true;
  const started = Date.now();
  const draw = (final = false) => {
    const { done, total, detail } = read();
    const filled = Math.round((done / Math.max(1, total)) * BAR_WIDTH);
    const line = `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${done}/${total} purchases · ${detail} · ${Math.round((Date.now() - started) / 1000)} s`;
    process.stderr.write(tty ? `\r${line}${final ? '\n' : ''}` : `${line}\n`);
  };
  const timer = setInterval(draw, tty ? TTY_REDRAW_MS : LOG_LINE_MS);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      draw(true);
    },
  };
}
