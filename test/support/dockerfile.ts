/**
 * A Dockerfile read as data: just enough of its syntax to follow files from the build context into
 * an image without a Docker engine. Follows Docker's parser on comments, line continuations (empty
 * and comment lines inside them included), exec versus shell form, multi-stage builds and
 * COPY --from by stage name or index. Not followed, because the project's Dockerfile uses none of
 * them: heredocs, the escape directive, ARG/ENV expansion, globs in COPY sources, FROM <stage>.
 */
import { posix } from 'node:path';

/** One instruction: its keyword in upper case and the rest of its (joined) lines. */
export interface Instruction {
  op: string;
  args: string;
}

/** A COPY or ADD. */
export interface Copy {
  /** Position of the instruction among all instructions of the Dockerfile. */
  index: number;
  /** The `--from` stage name (lower case) or index; undefined for the build context. */
  from: string | undefined;
  sources: string[];
  /** Absolute image path of each source, in order. */
  targets: string[];
  /**
   * True when the destination is a folder the sources go into (`dest/`, or several sources).
   * Docker then lands a folder source's contents there, not the folder: its target above is only
   * right for a file.
   */
  intoFolder: boolean;
}

/** A RUN: its position among all instructions and its command (exec form joined by spaces). */
export interface Run {
  index: number;
  command: string;
}

/** One FROM and what follows it. */
export interface Stage {
  /** The `AS` name in lower case, as Docker matches names; undefined when unnamed. */
  name: string | undefined;
  base: string;
  workdir: string;
  copies: Copy[];
  runs: Run[];
  user: string | undefined;
  env: Map<string, string>;
  entrypoint: string[] | undefined;
  cmd: string[] | undefined;
  expose: string[];
}

/** Where an image path comes from. */
export interface Origin {
  /** The build-context path (relative, normalized) the image path comes from. */
  path: string;
  /** The COPY instruction that brings it into the stage asked about, or the RUN that produced it there. */
  index: number;
}

const CONTINUATION = /\\[ \t]*$/;

/** The Dockerfile's instructions in order, with continued lines joined as Docker joins them. */
export function dockerInstructions(source: string): Instruction[] {
  const result: Instruction[] = [];
  const push = (whole: string): void => {
    const line = whole.trim();
    if (line === '') return;
    const op = line.split(/\s/, 1)[0] ?? '';
    result.push({ op: op.toUpperCase(), args: line.slice(op.length).trim() });
  };
  let pending: string | undefined;
  for (const line of source.split(/\r?\n/)) {
    // Docker drops comment lines and (with a warning) empty lines even inside a continued instruction.
    if (/^\s*#/.test(line)) continue;
    if (pending !== undefined && line.trim() === '') continue;
    const part = line.replace(CONTINUATION, '');
    // Docker joins a continued line as written: no space added, its indentation kept.
    pending = pending === undefined ? part.trimStart() : pending + part;
    if (CONTINUATION.test(line)) continue;
    push(pending);
    pending = undefined;
  }
  if (pending !== undefined) push(pending);
  return result;
}

function jsonArgs(args: string): string[] | undefined {
  if (!args.startsWith('[')) return undefined;
  try {
    const parsed: unknown = JSON.parse(args);
    return Array.isArray(parsed) && parsed.every((a) => typeof a === 'string') ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** ENTRYPOINT/CMD/RUN arguments as argv: a JSON array of strings is exec form; anything else, as in Docker, runs under `/bin/sh -c`. */
export function commandLine(args: string): string[] {
  return jsonArgs(args) ?? ['/bin/sh', '-c', args];
}

/** Splits leading `--flag` words off an instruction's arguments. */
function flagsAndRest(args: string): { flags: string[]; rest: string } {
  const flags: string[] = [];
  let rest = args;
  for (let m = /^(--\S+)\s*/.exec(rest); m; m = /^(--\S+)\s*/.exec(rest)) {
    flags.push(m[1] as string);
    rest = rest.slice(m[0].length);
  }
  return { flags, rest };
}

/** Words as Docker's ENV reads them: whitespace splits, quotes group, a backslash escapes. */
function shellWords(text: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quote !== undefined) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < text.length) word = (word ?? '') + (text[++i] as string);
      else word = (word ?? '') + c;
    } else if (c === '"' || c === "'") {
      quote = c;
      word ??= '';
    } else if (c === '\\' && i + 1 < text.length) {
      word = (word ?? '') + (text[++i] as string);
    } else if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else {
      word = (word ?? '') + c;
    }
  }
  if (quote !== undefined) throw new Error(`ENV ${text}: unterminated ${quote} quote`);
  if (word !== undefined) words.push(word);
  return words;
}

function envPairs(args: string): [string, string][] {
  // The legacy form `ENV KEY value with spaces` sets one variable to the rest of the line.
  if (!/^[^\s=]+=/.test(args)) {
    const key = args.split(/\s/, 1)[0] ?? '';
    return [[key, args.slice(key.length).trim()]];
  }
  return shellWords(args).map((word) => {
    const eq = word.indexOf('=');
    return eq < 0 ? [word, ''] : [word.slice(0, eq), word.slice(eq + 1)];
  });
}

function copyOf(args: string, workdir: string, index: number): Copy {
  const { flags, rest } = flagsAndRest(args);
  const paths = jsonArgs(rest) ?? rest.split(/\s+/).filter((w) => w !== '');
  const dest = paths.pop() ?? '';
  const from = flags
    .find((f) => f.startsWith('--from='))
    ?.slice('--from='.length)
    .toLowerCase();
  const intoFolder = dest.endsWith('/') || paths.length > 1;
  const destination = posix.resolve(workdir, dest);
  return {
    index,
    from,
    sources: paths,
    targets: paths.map((p) => (intoFolder ? posix.join(destination, posix.basename(p)) : destination)),
    intoFolder,
  };
}

/** The stages of a Dockerfile, each with what it copies, runs and sets. */
export function parseDockerfile(source: string): Stage[] {
  const stages: Stage[] = [];
  dockerInstructions(source).forEach(({ op, args }, index) => {
    if (op === 'FROM') {
      const [base = '', as, name] = flagsAndRest(args).rest.split(/\s+/);
      stages.push({
        name: as?.toUpperCase() === 'AS' ? name?.toLowerCase() : undefined,
        base,
        workdir: '/',
        copies: [],
        runs: [],
        user: undefined,
        env: new Map(),
        entrypoint: undefined,
        cmd: undefined,
        expose: [],
      });
      return;
    }
    // Only ARG may precede the first FROM, and it sets nothing this model follows.
    const stage = stages.at(-1);
    if (!stage) return;
    switch (op) {
      case 'WORKDIR':
        stage.workdir = posix.resolve(stage.workdir, args);
        break;
      case 'COPY':
      case 'ADD':
        stage.copies.push(copyOf(args, stage.workdir, index));
        break;
      case 'RUN': {
        const { rest } = flagsAndRest(args);
        stage.runs.push({ index, command: jsonArgs(rest)?.join(' ') ?? rest });
        break;
      }
      case 'USER':
        stage.user = args;
        break;
      case 'ENV':
        for (const [key, value] of envPairs(args)) stage.env.set(key, value);
        break;
      case 'ENTRYPOINT':
        stage.entrypoint = commandLine(args);
        break;
      case 'CMD':
        stage.cmd = commandLine(args);
        break;
      case 'EXPOSE':
        stage.expose.push(...args.split(/\s+/));
        break;
    }
  });
  return stages;
}

/** The stage a `--from` refers to, by name (any case) or by index; throws when there is none. */
export function stageOf(stages: Stage[], ref: string): Stage {
  const stage = /^\d+$/.test(ref) ? stages[Number(ref)] : stages.find((s) => s.name === ref.toLowerCase());
  if (!stage) throw new Error(`COPY --from=${ref}: no stage of that name`);
  return stage;
}

/** Strips `./` and trailing slashes the way Go's filepath.Clean does. */
function clean(path: string): string {
  const normal = posix.normalize(path);
  return normal.length > 1 ? normal.replace(/\/+$/, '') : normal;
}

/** The RUN in `stage` that makes `rel` (relative to its WORKDIR): npm's install for node_modules, the build (or `npm ci` running `prepare`) for `outDir`. */
export function producedBy(stage: Stage, rel: string, outDir: string): Run | undefined {
  const within = (folder: string): boolean => rel === folder || rel.startsWith(`${folder}/`);
  return stage.runs.find(({ command }) => {
    if (within('node_modules')) return /\bnpm (ci|install)\b/.test(command);
    if (within(clean(outDir))) return /\bnpm run build\b|\btsc\b|\bnpm ci\b(?![^&;|]*--ignore-scripts)/.test(command);
    return false;
  });
}

/** Where `imagePath` in `stage` comes from in the build context, following COPY --from; undefined if nowhere. */
export function originOf(stages: Stage[], stage: Stage, imagePath: string, outDir: string): Origin | undefined {
  let best: { copy: Copy; source: string; target: string } | undefined;
  for (const copy of stage.copies) {
    copy.sources.forEach((source, i) => {
      const target = copy.targets[i] ?? '';
      const covers = imagePath === target || imagePath.startsWith(target.endsWith('/') ? target : `${target}/`);
      // The deepest target holds the path; of equal ones the later COPY overwrote the earlier.
      if (covers && (!best || target.length >= best.target.length)) best = { copy, source, target };
    });
  }
  if (best) {
    const rest = imagePath.slice(best.target.length).replace(/^\//, '');
    if (best.copy.from === undefined) return { path: clean(posix.join('.', best.source, rest)), index: best.copy.index };
    const from = stageOf(stages, best.copy.from);
    if (stages.indexOf(from) >= stages.indexOf(stage)) throw new Error(`COPY --from=${best.copy.from}: not an earlier stage`);
    // A --from source is a path in that stage's filesystem, relative to its root, not its WORKDIR.
    const inner = originOf(stages, from, posix.resolve('/', best.source, rest), outDir);
    return inner && { ...inner, index: best.copy.index };
  }
  const rel = posix.relative(stage.workdir, imagePath);
  if (rel === '..' || rel.startsWith('../')) return undefined;
  const run = producedBy(stage, rel, outDir);
  return run && { path: rel, index: run.index };
}
