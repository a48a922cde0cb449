/**
 * The status line at the bottom of a terminal: one owner per stream, so whatever else writes to
 * that stream (log lines) first erases the status line and then draws it again below. Without
 * it a log line would start where the redrawn line ends and the two would be glued together.
 */
import { Writable } from 'node:stream';

/** What a status line writes to: a stream, and its width when it is a terminal. */
export interface LineStream {
  write(text: string): unknown;
  columns?: number | undefined;
}

/** One redrawn line of text under everything else a stream shows. */
export interface StatusLine {
  /** Shows `text` as the status line, replacing what it showed before. */
  draw(text: string): void;
  /** Writes whole lines above the status line, which is then drawn again. */
  writeAbove(text: string): void;
  /** Leaves the status line as it is on screen and moves below it; the next draw starts a new one. */
  end(): void;
}

// Carriage return, then erase the whole line: the cursor stays on the status line's row.
const ERASE_LINE = '\r\x1b[2K';

/** A status line owning `stream`; every write to the stream must go through it. */
export function createStatusLine(stream: LineStream): StatusLine {
  let shown: string | undefined;
  // A line wider than the terminal wraps, and erasing only clears its last row.
  const fit = (text: string): string => {
    const width = stream.columns;
    return width !== undefined && width > 1 && text.length >= width ? text.slice(0, width - 1) : text;
  };
  return {
    draw(text) {
      shown = fit(text);
      stream.write(`${ERASE_LINE}${shown}`);
    },
    writeAbove(text) {
      if (shown === undefined) {
        stream.write(text);
        return;
      }
      // One write, so nothing else can land between the erase and the redraw.
      stream.write(`${ERASE_LINE}${text}${text.endsWith('\n') ? '' : '\n'}${shown}`);
    },
    end() {
      if (shown === undefined) return;
      shown = undefined;
      stream.write('\n');
    },
  };
}

let stderrLine: StatusLine | undefined;

/** The process's one status line on stderr, shared by the progress display and the logger. */
export function stderrStatusLine(): StatusLine {
  stderrLine ??= createStatusLine(process.stderr);
  return stderrLine;
}

/** A stream whose every write lands above `line` (for loggers that need a Writable destination). */
export function writableAbove(line: StatusLine): Writable {
  return new Writable({
    decodeStrings: false,
    write(chunk: string | Buffer, _encoding, done) {
      line.writeAbove(typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
      done();
    },
  });
}
