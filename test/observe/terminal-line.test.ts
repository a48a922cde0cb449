import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../connector/observe/logger.js';
import { runProgress, startProgress } from '../../connector/observe/progress.js';
import { RunStats } from '../../connector/observe/run-stats.js';
import { createStatusLine, writableAbove } from '../../connector/observe/terminal-line.js';

/** A stream that records what it is sent, like a terminal `columns` wide. */
function fakeTty(columns?: number) {
  let output = '';
  return { isTTY: true, columns, write: (text: string) => (output += text), output: () => output };
}

/**
 * The rows a terminal shows after `output`: `\r` returns to column 0, `ESC[2K` blanks the row
 * (the cursor stays), `\n` starts a new row; other escapes (colours) change nothing visible.
 */
function screen(output: string): string[] {
  const rows = [''];
  let column = 0;
  for (let i = 0; i < output.length; i++) {
    const char = output[i] as string;
    if (char === '\x1b' && output[i + 1] === '[') {
      let end = i + 2;
      while (/[0-9;]/.test(output[end] ?? '')) end++;
      if (output.slice(i + 2, end + 1) === '2K') rows[rows.length - 1] = '';
      i = end;
    } else if (char === '\r') column = 0;
    else if (char === '\n') {
      rows.push('');
      column = 0;
    } else {
      const row = rows[rows.length - 1] as string;
      rows[rows.length - 1] = row.slice(0, column).padEnd(column) + char + row.slice(column + 1);
      column++;
    }
  }
  return rows;
}

describe('the status line', () => {
  it('redraws in place', () => {
    const tty = fakeTty();
    const line = createStatusLine(tty);
    line.draw('10 read');
    line.draw('20 read');
    expect(screen(tty.output())).toEqual(['20 read']);
  });

  it('puts every line written above it and draws itself again below', () => {
    const tty = fakeTty();
    const line = createStatusLine(tty);
    line.draw('10 read · pending 3');
    line.writeAbove('first log line\n');
    line.writeAbove('second, without its newline');
    line.draw('20 read');
    expect(screen(tty.output())).toEqual(['first log line', 'second, without its newline', '20 read']);
  });

  it('passes lines through untouched while nothing is drawn', () => {
    const tty = fakeTty();
    createStatusLine(tty).writeAbove('a log line\n');
    expect(tty.output()).toBe('a log line\n');
  });

  it('stays on screen when ended, and what follows goes below it', () => {
    const tty = fakeTty();
    const line = createStatusLine(tty);
    line.end();
    expect(tty.output()).toBe('');
    line.draw('30 read');
    line.end();
    line.writeAbove('stopped cleanly\n');
    expect(screen(tty.output())).toEqual(['30 read', 'stopped cleanly', '']);
  });

  it('cuts a line wider than the terminal, which erasing could not clear once wrapped', () => {
    const tty = fakeTty(10);
    const line = createStatusLine(tty);
    line.draw('0123456789abcdef');
    line.writeAbove('log\n');
    expect(screen(tty.output())).toEqual(['log', '012345678']);
  });

  it('gives loggers a writable stream that writes above it', async () => {
    const tty = fakeTty();
    const line = createStatusLine(tty);
    line.draw('progress');
    const stream = writableAbove(line);
    await new Promise<void>((resolve, reject) => stream.write(Buffer.from('from a buffer\n'), (err) => (err ? reject(err) : resolve())));
    expect(screen(tty.output())).toEqual(['from a buffer', 'progress']);
  });
});

describe("run's progress line on a terminal", () => {
  const descriptor = Object.getOwnPropertyDescriptor(process.stderr, 'isTTY');
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
    if (descriptor) Object.defineProperty(process.stderr, 'isTTY', descriptor);
    else delete (process.stderr as { isTTY?: boolean }).isTTY;
  });

  it('is erased before a log line and drawn again after it, never glued to it', () => {
    Object.defineProperty(process.stderr, 'isTTY', { value: true, configurable: true });
    let output = '';
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      output += String(chunk);
      return true;
    });
    vi.useFakeTimers();
    const logger = createLogger({ name: 'run' });
    const stop = startProgress(runProgress(new RunStats(), { pending: () => 7, quotaRemaining: () => 99 }), logger);
    vi.advanceTimersByTime(1000);
    logger.warn('retrying a request');
    vi.advanceTimersByTime(1000);
    stop();
    logger.info('stopped cleanly');
    const rows = screen(output);
    expect(rows).toHaveLength(4);
    expect(rows[0]).toMatch(/^\[[\d:.]+\] WARN \(run\): retrying a request$/);
    expect(rows[1]).toMatch(/^0 read · .* · pending 7 · quota 99 · retries 0$/);
    expect(rows[2]).toMatch(/^\[[\d:.]+\] INFO \(run\): stopped cleanly$/);
    expect(rows[3]).toBe('');
  });
});
