/** The staged image: a stage's COPYs laid out from the build context, and its ENTRYPOINT run on them. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { lstatSync, readFileSync, realpathSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseDockerfile, type Stage } from './dockerfile.js';
import { firstLine, imageLayout, stageImage, startEntrypoint } from './image-stage.js';
import { testTempDir } from './test-run.js';

const DOCKERFILE = `
FROM node:20 AS build
WORKDIR /app
RUN npm ci
FROM node:20-slim
WORKDIR /app
ENV GREETING="hello there"
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY main.js ./
COPY conf ./conf
COPY missing.txt ./missing.txt
ENTRYPOINT ["node", "/app/main.js", "--from-image"]
`;

const children: ChildProcessWithoutNullStreams[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  }
});

describe('imageLayout', () => {
  it("traces each of the stage's COPY targets to the build context and leaves out what nothing makes", () => {
    const stages = parseDockerfile(DOCKERFILE);
    expect(imageLayout(stages, stages[1] as Stage, 'dist')).toEqual([
      { target: '/app/node_modules', source: 'node_modules' },
      // `npm ci` runs the build in prepare, so dist comes from it.
      { target: '/app/dist', source: 'dist' },
      { target: '/app/main.js', source: 'main.js' },
      { target: '/app/conf', source: 'conf' },
      { target: '/app/missing.txt', source: 'missing.txt' },
    ]);
    const withoutBuild = parseDockerfile(DOCKERFILE.replace('RUN npm ci', 'RUN npm ci --ignore-scripts'));
    expect(imageLayout(withoutBuild, withoutBuild[1] as Stage, 'dist').map((e) => e.target)).not.toContain('/app/dist');
  });
});

describe('stageImage and startEntrypoint', () => {
  let context = '';
  let imageRoot = '';
  const stages = parseDockerfile(DOCKERFILE);
  const runtime = stages[1] as Stage;

  beforeAll(async () => {
    const scratch = await testTempDir('image-stage');
    context = join(scratch, 'context');
    imageRoot = join(scratch, 'image');
    await mkdir(join(context, 'node_modules/dep'), { recursive: true });
    await mkdir(join(context, 'dist/cli'), { recursive: true });
    await mkdir(join(context, 'conf'), { recursive: true });
    await writeFile(join(context, 'node_modules/dep/index.js'), '');
    await writeFile(join(context, 'dist/cli/main.js'), '// built');
    await writeFile(join(context, 'conf/settings.json'), '{}');
    // One line with what the process sees: where it runs, its environment and its arguments.
    await writeFile(
      join(context, 'main.js'),
      'console.log(JSON.stringify({ cwd: process.cwd(), greeting: process.env.GREETING, args: process.argv.slice(2) }));',
    );
    await stageImage(imageLayout(stages, runtime, 'dist'), context, imageRoot);
  });

  it('copies files and folders, links node_modules, and skips sources the context lacks', () => {
    expect(readFileSync(join(imageRoot, 'app/dist/cli/main.js'), 'utf8')).toBe('// built');
    expect(readFileSync(join(imageRoot, 'app/conf/settings.json'), 'utf8')).toBe('{}');
    expect(lstatSync(join(imageRoot, 'app/dist')).isSymbolicLink()).toBe(false);
    expect(lstatSync(join(imageRoot, 'app/node_modules')).isSymbolicLink()).toBe(true);
    expect(realpathSync(join(imageRoot, 'app/node_modules'))).toBe(realpathSync(join(context, 'node_modules')));
    expect(() => lstatSync(join(imageRoot, 'app/missing.txt'))).toThrow(/ENOENT/);
  });

  it("runs the node ENTRYPOINT from the staged image, in its WORKDIR, with its ENV and the entrypoint's arguments first", async () => {
    const child = startEntrypoint(runtime, imageRoot, ['spec']);
    children.push(child);
    const seen = JSON.parse(await firstLine(child)) as { cwd: string; greeting: string; args: string[] };
    expect(realpathSync(seen.cwd)).toBe(realpathSync(join(imageRoot, 'app')));
    expect(seen.greeting).toBe('hello there');
    expect(seen.args).toEqual(['--from-image', 'spec']);
    expect((await once(child, 'exit'))[0]).toBe(0);
  });

  it('refuses an ENTRYPOINT that is not node, which the staged image cannot run', () => {
    const [shell] = parseDockerfile('FROM node:20\nENTRYPOINT /app/start.sh') as [Stage];
    expect(() => startEntrypoint(shell, imageRoot, [])).toThrow('ENTRYPOINT runs /bin/sh: only a node entrypoint can run on the staged image');
  });
});

describe('firstLine', () => {
  const node = (script: string): ChildProcessWithoutNullStreams => {
    const child = spawn(process.execPath, ['-e', script]);
    children.push(child);
    return child;
  };

  it('resolves with the first stdout line while the process keeps running', async () => {
    const child = node('console.log("listening on http://127.0.0.1:1"); console.log("second"); setInterval(() => {}, 1000);');
    expect(await firstLine(child)).toBe('listening on http://127.0.0.1:1');
    expect(child.exitCode).toBeNull();
  });

  it('rejects with the exit code and stderr when the process exits without a line', async () => {
    const child = node('console.error("cannot find module /app/dist/main.js"); process.exit(3);');
    await expect(firstLine(child)).rejects.toThrow(/exited with 3 before printing a line: cannot find module \/app\/dist\/main\.js/);
  });
});
