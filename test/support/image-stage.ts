/**
 * A Dockerfile stage's filesystem laid out under a temporary folder from the build context, and
 * its ENTRYPOINT run on it: a file the image would lack is missing here too, so a packaging test
 * catches it without a Docker engine.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { cp, mkdir, symlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { originOf, type Stage } from './dockerfile.js';

/** One file or folder of the image: where it goes and the build-context path it comes from. */
export interface LayoutEntry {
  target: string;
  source: string;
}

/** What `stage`'s COPYs put into the image, each traced to the build context; untraceable ones are left out. */
export function imageLayout(stages: Stage[], stage: Stage, outDir: string): LayoutEntry[] {
  return stage.copies.flatMap((copy) =>
    copy.targets.flatMap((target) => {
      const origin = originOf(stages, stage, target, outDir);
      return origin ? [{ target, source: origin.path }] : [];
    }),
  );
}

/** Lays `layout` out under `imageRoot` from the build context at `contextRoot`; sources missing from the context are skipped. */
export async function stageImage(layout: LayoutEntry[], contextRoot: string, imageRoot: string): Promise<void> {
  for (const { target, source } of layout) {
    const from = join(contextRoot, source);
    if (!existsSync(from)) continue;
    const into = join(imageRoot, target);
    await mkdir(dirname(into), { recursive: true });
    // Packages resolve from their real path, so a link is as good as a copy and far cheaper.
    if (basename(target) === 'node_modules') await symlink(from, into, 'dir');
    else await cp(from, into, { recursive: true });
  }
}

/** Starts `stage`'s `node` ENTRYPOINT with `args` on the image staged at `imageRoot`, in its WORKDIR and with its ENV. */
export function startEntrypoint(stage: Stage, imageRoot: string, args: string[]): ChildProcessWithoutNullStreams {
  const [command, script = '', ...rest] = stage.entrypoint ?? [];
  // The staged image has the host's node, nothing else the real image's PATH would offer.
  if (command !== 'node') throw new Error(`ENTRYPOINT runs ${String(command)}: only a node entrypoint can run on the staged image`);
  return spawn(process.execPath, [join(imageRoot, script), ...rest, ...args], {
    cwd: join(imageRoot, stage.workdir),
    env: { ...process.env, ...Object.fromEntries(stage.env) },
  });
}

/** The first line `child` writes to stdout; rejects with its stderr when it exits before writing one. */
export async function firstLine(child: ChildProcessWithoutNullStreams): Promise<string> {
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const lines = createInterface({ input: child.stdout });
  // 'close' rather than 'exit': only then has all of stderr been read.
  const exited = once(child, 'close').then(([code]) => {
    throw new Error(`exited with ${String(code)} before printing a line: ${stderr}`);
  });
  try {
    const [line] = (await Promise.race([once(lines, 'line'), exited])) as [string];
    return line;
  } finally {
    lines.close();
  }
}
