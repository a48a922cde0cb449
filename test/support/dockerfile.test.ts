/** The Dockerfile model the packaging test follows files with: Docker's syntax rules and COPY tracing. */
import { describe, expect, it } from 'vitest';
import { commandLine, dockerInstructions, originOf, parseDockerfile, producedBy, stageOf, type Stage } from './dockerfile.js';

describe('dockerInstructions', () => {
  it('skips comments and parser directives, upper-cases keywords and keeps a # inside an instruction', () => {
    const source = ['# syntax=docker/dockerfile:1', '  # indented comment', 'from node:20', '', 'run echo hi # not a comment'].join('\n');
    expect(dockerInstructions(source)).toEqual([
      { op: 'FROM', args: 'node:20' },
      { op: 'RUN', args: 'echo hi # not a comment' },
    ]);
  });

  it('joins continued lines as Docker does: no space added, indentation kept', () => {
    expect(dockerInstructions('RUN echo a\\\nb')).toEqual([{ op: 'RUN', args: 'echo ab' }]);
    expect(dockerInstructions('RUN npm ci \\\n    && npm test')).toEqual([{ op: 'RUN', args: 'npm ci     && npm test' }]);
  });

  it('continues past trailing blanks after the backslash, and past comment and empty lines inside the instruction', () => {
    const source = ['RUN a \\   ', '# a note inside', '', '  b \\', '\t', 'c', 'USER node'].join('\n');
    expect(dockerInstructions(source)).toEqual([
      { op: 'RUN', args: 'a   b c' },
      { op: 'USER', args: 'node' },
    ]);
  });

  it('keeps an instruction whose continuation runs into the end of the file, and reads CRLF files', () => {
    expect(dockerInstructions('FROM node:20\r\nRUN a \\\r\n  b \\')).toEqual([
      { op: 'FROM', args: 'node:20' },
      { op: 'RUN', args: 'a   b' },
    ]);
  });
});

describe('commandLine', () => {
  it('takes a JSON array of strings as exec form', () => {
    expect(commandLine('["node", "/app/main.js", "run"]')).toEqual(['node', '/app/main.js', 'run']);
  });

  it('runs anything else under /bin/sh -c, as Docker does with malformed exec form', () => {
    expect(commandLine('node /app/main.js')).toEqual(['/bin/sh', '-c', 'node /app/main.js']);
    // Single quotes are not JSON: a classic exec form mistake that Docker runs through the shell.
    expect(commandLine("['node', 'main.js']")).toEqual(['/bin/sh', '-c', "['node', 'main.js']"]);
    expect(commandLine('["node", 1]')).toEqual(['/bin/sh', '-c', '["node", 1]']);
    expect(commandLine('[node')).toEqual(['/bin/sh', '-c', '[node']);
  });
});

const MULTI_STAGE = `
# syntax=docker/dockerfile:1
ARG NODE=20
FROM --platform=$BUILDPLATFORM node:20 AS Build
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --ignore-scripts
COPY ["source dir", "./src"]
COPY tsconfig.json ./
RUN ["npm", "run", "build"]

FROM node:20-slim
ENV A=1 B="two \\"quoted\\" words" C='single $x' D=esc\\ aped
ENV LEGACY value with spaces
WORKDIR /srv
COPY --from=build --chown=node /app/dist ./dist
COPY --from=0 app/node_modules node_modules
COPY a.json b.json conf/
COPY schemas /srv/schemas
USER node:node
EXPOSE 8080/tcp 9090
ENTRYPOINT ["node", "/srv/dist/main.js"]
CMD run --fast
`;

describe('parseDockerfile', () => {
  const [build, runtime] = parseDockerfile(MULTI_STAGE) as [Stage, Stage];

  it('splits the stages, ignoring the ARG before the first FROM and FROM flags; names are lower case', () => {
    expect(parseDockerfile(MULTI_STAGE)).toHaveLength(2);
    expect(build).toMatchObject({ name: 'build', base: 'node:20', workdir: '/app' });
    expect(runtime).toMatchObject({ name: undefined, base: 'node:20-slim', workdir: '/srv' });
  });

  it('numbers instructions across the file and strips RUN flags; exec-form RUN reads as its words', () => {
    expect(build.runs).toEqual([
      { index: 4, command: 'npm ci --ignore-scripts' },
      { index: 7, command: 'npm run build' },
    ]);
  });

  it('resolves COPY destinations against WORKDIR, into a folder for `dest/` or several sources', () => {
    expect(build.copies.map((c) => [c.index, c.sources, c.targets, c.intoFolder])).toEqual([
      [3, ['package.json', 'package-lock.json'], ['/app/package.json', '/app/package-lock.json'], true],
      [5, ['source dir'], ['/app/src'], false],
      [6, ['tsconfig.json'], ['/app/tsconfig.json'], true],
    ]);
    expect(runtime.copies.map((c) => [c.from, c.sources, c.targets, c.intoFolder])).toEqual([
      ['build', ['/app/dist'], ['/srv/dist'], false],
      ['0', ['app/node_modules'], ['/srv/node_modules'], false],
      [undefined, ['a.json', 'b.json'], ['/srv/conf/a.json', '/srv/conf/b.json'], true],
      [undefined, ['schemas'], ['/srv/schemas'], false],
    ]);
  });

  it('reads ENV pairs with quotes and escapes, and the legacy one-variable form', () => {
    expect(Object.fromEntries(runtime.env)).toEqual({
      A: '1',
      B: 'two "quoted" words',
      C: 'single $x',
      D: 'esc aped',
      LEGACY: 'value with spaces',
    });
  });

  it('keeps USER, EXPOSE, and ENTRYPOINT/CMD in exec or shell form', () => {
    expect(runtime.user).toBe('node:node');
    expect(runtime.expose).toEqual(['8080/tcp', '9090']);
    expect(runtime.entrypoint).toEqual(['node', '/srv/dist/main.js']);
    expect(runtime.cmd).toEqual(['/bin/sh', '-c', 'run --fast']);
  });

  it('chains relative WORKDIRs', () => {
    const [stage] = parseDockerfile('FROM scratch\nWORKDIR /app\nWORKDIR sub\nWORKDIR ../other\nCOPY x .');
    expect(stage?.workdir).toBe('/app/other');
    expect(stage?.copies[0]?.targets).toEqual(['/app/other']);
  });

  it('rejects an ENV with an unterminated quote', () => {
    expect(() => parseDockerfile('FROM scratch\nENV A="open')).toThrow(/unterminated " quote/);
  });
});

describe('stageOf', () => {
  const stages = parseDockerfile(MULTI_STAGE);

  it('finds a stage by name in any case or by index', () => {
    expect(stageOf(stages, 'BUILD')).toBe(stages[0]);
    expect(stageOf(stages, '1')).toBe(stages[1]);
  });

  it('names the reference it cannot find', () => {
    expect(() => stageOf(stages, 'compile')).toThrow('COPY --from=compile: no stage of that name');
    expect(() => stageOf(stages, '2')).toThrow('COPY --from=2: no stage of that name');
  });
});

describe('producedBy', () => {
  const [stage] = parseDockerfile('FROM node\nWORKDIR /app\nRUN npm install\nRUN npx tsc -p .\nRUN echo done') as [Stage];

  it('credits node_modules to the install and the output folder to the compiler', () => {
    expect(producedBy(stage, 'node_modules/yaml/package.json', 'dist')?.command).toBe('npm install');
    expect(producedBy(stage, 'dist/cli/main.js', 'dist')?.command).toBe('npx tsc -p .');
    expect(producedBy(stage, 'dist', './dist/')?.command).toBe('npx tsc -p .');
    expect(producedBy(stage, 'build/out/main.js', 'build/out')?.command).toBe('npx tsc -p .');
  });

  it('credits nothing else, and no folder that merely starts with the same letters', () => {
    expect(producedBy(stage, 'src/main.ts', 'dist')).toBeUndefined();
    expect(producedBy(stage, 'distribution/x', 'dist')).toBeUndefined();
    expect(producedBy(stage, 'build/other/main.js', 'build/out')).toBeUndefined();
  });

  it('counts `npm ci` as a build only when it runs the prepare script', () => {
    const [withScripts] = parseDockerfile('FROM node\nRUN npm ci') as [Stage];
    const [withoutScripts] = parseDockerfile('FROM node\nRUN npm ci --ignore-scripts && echo ok') as [Stage];
    expect(producedBy(withScripts, 'dist/main.js', 'dist')?.command).toBe('npm ci');
    expect(producedBy(withoutScripts, 'dist/main.js', 'dist')).toBeUndefined();
    expect(producedBy(withoutScripts, 'node_modules', 'dist')?.command).toBe('npm ci --ignore-scripts && echo ok');
  });
});

describe('originOf', () => {
  const stages = parseDockerfile(MULTI_STAGE);
  const [build, runtime] = stages as [Stage, Stage];
  const origin = (stage: Stage, path: string) => originOf(stages, stage, path, 'dist');

  it('traces a copied file, and a file inside a copied folder, to the build context', () => {
    expect(origin(build, '/app/package-lock.json')).toEqual({ path: 'package-lock.json', index: 3 });
    expect(origin(build, '/app/src/core/a.ts')).toEqual({ path: 'source dir/core/a.ts', index: 5 });
    expect(origin(runtime, '/srv/schemas/mapping.schema.json')).toEqual({ path: 'schemas/mapping.schema.json', index: 15 });
  });

  it('follows COPY --from into the earlier stage, where the build made it, and reports the COPY that brought it', () => {
    expect(origin(runtime, '/srv/dist/cli/main.js')).toEqual({ path: 'dist/cli/main.js', index: 12 });
    // A --from source is relative to the stage's root, not its WORKDIR.
    expect(origin(runtime, '/srv/node_modules/yaml')).toEqual({ path: 'node_modules/yaml', index: 13 });
  });

  it('finds nothing for paths nothing brings or builds', () => {
    expect(origin(runtime, '/srv/README.md')).toBeUndefined();
    expect(origin(runtime, '/etc/passwd')).toBeUndefined();
    expect(origin(build, '/app/src2/x')).toBeUndefined();
  });

  it('lets a later COPY to the same target win', () => {
    const later = parseDockerfile('FROM node\nWORKDIR /app\nCOPY a.json ./config.json\nCOPY b.json ./config.json');
    expect(originOf(later, later[0] as Stage, '/app/config.json', 'dist')).toEqual({ path: 'b.json', index: 3 });
  });

  it('refuses COPY --from of the stage itself or a later one', () => {
    const loop = parseDockerfile('FROM node AS a\nCOPY --from=b /x /x\nFROM node AS b\nCOPY --from=b /y /y');
    expect(() => originOf(loop, loop[0] as Stage, '/x', 'dist')).toThrow('COPY --from=b: not an earlier stage');
    expect(() => originOf(loop, loop[1] as Stage, '/y', 'dist')).toThrow('COPY --from=b: not an earlier stage');
  });
});
