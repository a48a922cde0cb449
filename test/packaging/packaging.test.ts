/**
 * Packaging checks that need no Docker engine: the Dockerfile, docker-compose.yml and the
 * Kubernetes example are read as data and held against the repository, spec.json, the config
 * loader and the mapping loader. The runtime image's /app is staged from the Dockerfile's COPY
 * lines and its ENTRYPOINT is run, so a file the image forgets fails here rather than in a pod.
 * Assumes the build ran (`npm ci` runs it on prepare; otherwise `npm run build`).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { cp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join, posix, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments, parseDocument } from 'yaml';
import { parseConfig } from '../../connector/config/load.js';
import { loadSpec } from '../../connector/config/spec.js';
import type { Config } from '../../connector/config/types.js';
import { loadMapping } from '../../connector/mapping/index.js';
import { testTempDir } from '../support/test-run.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const repo = (...parts: string[]): string => join(root, ...parts);
const readText = (path: string): string => readFileSync(repo(path), 'utf8');

/** Target's limit per account and rolling 24 hours. */
const ACCOUNT_DAILY_QUOTA = 1_000_000;

// ---------------------------------------------------------------------------------------------
// Untyped YAML access that fails with the path it was looking for.

type Json = Record<string, unknown>;

function obj(value: unknown, what: string): Json {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error(`${what}: expected a mapping`);
  return value as Json;
}
function list(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw new Error(`${what}: expected a list`);
  return value;
}
function text(value: unknown, what: string): string {
  if (typeof value !== 'string' && typeof value !== 'number') throw new Error(`${what}: expected a string`);
  return String(value);
}

// ---------------------------------------------------------------------------------------------
// Dockerfile model: just enough of the syntax to follow files from the context into the image.

interface Copy {
  index: number;
  from: string | undefined;
  sources: string[];
  /** Absolute image path of each source, in order. */
  targets: string[];
}

interface Stage {
  name: string | undefined;
  base: string;
  workdir: string;
  copies: Copy[];
  runs: { index: number; command: string }[];
  user: string | undefined;
  env: Map<string, string>;
  entrypoint: string[] | undefined;
  cmd: string[] | undefined;
  expose: string[];
}

function instructions(source: string): { op: string; args: string }[] {
  const result: { op: string; args: string }[] = [];
  let pending = '';
  for (const raw of source.split('\n')) {
    const line = raw.trim();
    // Docker drops comment lines even in the middle of a continued instruction.
    if (line.startsWith('#') || (line === '' && pending === '')) continue;
    if (line.endsWith('\\')) {
      pending += line.slice(0, -1) + ' ';
      continue;
    }
    const whole = (pending + line).trim();
    pending = '';
    if (whole === '') continue;
    const op = whole.split(/\s+/)[0] ?? '';
    result.push({ op: op.toUpperCase(), args: whole.slice(op.length).trim() });
  }
  return result;
}

function execForm(args: string): string[] {
  if (!args.startsWith('[')) return ['/bin/sh', '-c', args];
  return list(JSON.parse(args), 'exec form').map((a) => text(a, 'exec form argument'));
}

function parseDockerfile(source: string): Stage[] {
  const stages: Stage[] = [];
  const steps = instructions(source);
  steps.forEach(({ op, args }, index) => {
    if (op === 'FROM') {
      const [base = '', as, name] = args.split(/\s+/).filter((w) => !w.startsWith('--'));
      stages.push({
        name: as?.toUpperCase() === 'AS' ? name : undefined,
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
    const stage = stages.at(-1);
    if (!stage) return;
    switch (op) {
      case 'WORKDIR':
        stage.workdir = posix.resolve(stage.workdir, args);
        break;
      case 'COPY':
      case 'ADD': {
        const words = args.startsWith('[') ? execForm(args) : args.split(/\s+/);
        const flags = words.filter((w) => w.startsWith('--'));
        const paths = words.filter((w) => !w.startsWith('--'));
        const dest = paths.pop() ?? '';
        const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length);
        const intoFolder = dest.endsWith('/') || paths.length > 1;
        const destination = posix.resolve(stage.workdir, dest);
        stage.copies.push({
          index,
          from,
          sources: paths,
          targets: paths.map((p) => (intoFolder ? posix.join(destination, posix.basename(p)) : destination)),
        });
        break;
      }
      case 'RUN':
        stage.runs.push({ index, command: args });
        break;
      case 'USER':
        stage.user = args;
        break;
      case 'ENV':
        for (const m of args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|\S+)/g)) {
          const [, key = '', value = ''] = m;
          stage.env.set(key, value.startsWith('"') ? (JSON.parse(value) as string) : value);
        }
        break;
      case 'ENTRYPOINT':
        stage.entrypoint = execForm(args);
        break;
      case 'CMD':
        stage.cmd = execForm(args);
        break;
      case 'EXPOSE':
        stage.expose.push(...args.split(/\s+/));
        break;
    }
  });
  return stages;
}

const stages = parseDockerfile(readText('Dockerfile'));
const runtime = stages.at(-1) as Stage;

function stageNamed(name: string): Stage {
  const stage = stages.find((s) => s.name === name);
  if (!stage) throw new Error(`COPY --from=${name}: no stage of that name`);
  return stage;
}

/** Which RUN in a stage makes a path that no COPY brought in: the install and the build. */
function producedBy(stage: Stage, rel: string): { index: number; command: string } | undefined {
  const top = rel.split('/')[0];
  const outDir = String((JSON.parse(readText('tsconfig.json')) as { compilerOptions: { outDir: string } }).compilerOptions.outDir);
  return stage.runs.find(({ command }) => {
    if (top === 'node_modules') return /\bnpm (ci|install)\b/.test(command);
    if (top === posix.normalize(outDir)) return /\bnpm run build\b|\btsc\b|\bnpm ci\b(?![^&;|]*--ignore-scripts)/.test(command);
    return false;
  });
}

interface Origin {
  /** The repository path the image path comes from. */
  path: string;
  /** The COPY instruction, or the RUN that produced the path, in the stage that holds it. */
  index: number;
}

/** Where `imagePath` in `stage` comes from in the repository, following COPY --from; undefined if nowhere. */
function originOf(stage: Stage, imagePath: string): Origin | undefined {
  let best: { copy: Copy; source: string; target: string } | undefined;
  for (const copy of stage.copies) {
    copy.sources.forEach((source, i) => {
      const target = copy.targets[i] ?? '';
      const covers = imagePath === target || imagePath.startsWith(target.endsWith('/') ? target : `${target}/`);
      if (covers && (!best || target.length > best.target.length)) best = { copy, source, target };
    });
  }
  if (best) {
    const rest = imagePath.slice(best.target.length).replace(/^\//, '');
    if (best.copy.from === undefined) return { path: join(best.source, rest), index: best.copy.index };
    const inner = originOf(stageNamed(best.copy.from), posix.join(best.source, rest));
    return inner && { ...inner, index: best.copy.index };
  }
  const rel = posix.relative(stage.workdir, imagePath);
  if (rel.startsWith('..')) return undefined;
  const run = producedBy(stage, rel);
  return run && { path: rel, index: run.index };
}

// ---------------------------------------------------------------------------------------------
// .dockerignore: Docker's patterns are anchored at the context root and exclude a folder's contents.

function globToRegExp(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*' && pattern[i + 1] === '*') {
      source += pattern[i + 2] === '/' ? '(?:.*/)?' : '.*';
      i += pattern[i + 2] === '/' ? 2 : 1;
    } else if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else source += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

const ignorePatterns = readText('.dockerignore')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'));

function dockerIgnored(path: string): boolean {
  const parts = posix.normalize(path).split('/');
  let ignored = false;
  for (const raw of ignorePatterns) {
    const negate = raw.startsWith('!');
    const re = globToRegExp(posix.normalize((negate ? raw.slice(1) : raw).replace(/^\/+/, '')));
    if (parts.some((_, i) => re.test(parts.slice(0, i + 1).join('/')))) ignored = !negate;
  }
  return ignored;
}

// ---------------------------------------------------------------------------------------------
// The staged image: the runtime stage's COPYs laid out under a temporary root.

let scratch = '';
let imageRoot = '';
const children: ChildProcessWithoutNullStreams[] = [];
const entryScript = (): string => runtime.entrypoint?.[1] ?? '';

beforeAll(async () => {
  if (!existsSync(repo('dist'))) throw new Error(`no dist/ in ${root}: run \`npm run build\` first (npm ci runs it on prepare)`);
  scratch = await testTempDir('packaging');
  imageRoot = join(scratch, 'image');
  for (const copy of runtime.copies) {
    for (const target of copy.targets) {
      const origin = originOf(runtime, target);
      if (!origin || !existsSync(repo(origin.path))) continue; // reported by the COPY test
      const into = join(imageRoot, target);
      await mkdir(dirname(into), { recursive: true });
      // Packages resolve from their real path, so a link is as good as a copy and far cheaper.
      if (basename(target) === 'node_modules') await symlink(repo(origin.path), into, 'dir');
      else await cp(repo(origin.path), into, { recursive: true });
    }
  }
});

afterAll(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

/** Runs the image's ENTRYPOINT with `args` on the staged image. */
function runImage(args: string[]): ChildProcessWithoutNullStreams {
  const [command, script = '', ...rest] = runtime.entrypoint ?? [];
  expect(command).toBe('node');
  const child = spawn(process.execPath, [join(imageRoot, script), ...rest, ...args], {
    cwd: join(imageRoot, runtime.workdir),
    env: { ...process.env, ...Object.fromEntries(runtime.env) },
  });
  children.push(child);
  return child;
}

async function firstLine(child: ChildProcessWithoutNullStreams): Promise<string> {
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const lines = createInterface({ input: child.stdout });
  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(`exited with ${String(code)} before printing a line: ${stderr}`);
  });
  const [line] = (await Promise.race([once(lines, 'line'), exited])) as [string];
  lines.close();
  return line;
}

/** Maps a container path to the host file it is, through mounts first and then the image. */
type HostPath = (containerPath: string) => string | undefined;

function imagePath(containerPath: string): string | undefined {
  const path = join(imageRoot, containerPath);
  return existsSync(path) ? path : undefined;
}

/**
 * Loads a mapping as the container would see it: reader schema paths are resolved in container
 * terms and swapped for their host files before the real loader reads the copy.
 */
async function loadMappingAsContainer(containerFile: string, host: HostPath): Promise<string[]> {
  const hostFile = host(containerFile);
  expect(hostFile, `${containerFile} is neither mounted nor in the image`).toBeDefined();
  const doc = parseDocument(readFileSync(hostFile as string, 'utf8'));
  const mappings = list(doc.toJS().mappings, `${containerFile}: mappings`);
  mappings.forEach((m, i) => {
    const schema = obj(m, `mappings[${i}]`).schema;
    if (typeof schema !== 'string') return;
    const inContainer = posix.resolve(posix.dirname(containerFile), schema);
    const schemaFile = host(inContainer);
    expect(schemaFile, `${containerFile} mappings[${i}].schema: ${inContainer} is not in the container`).toBeDefined();
    doc.setIn(['mappings', i, 'schema'], schemaFile);
  });
  const copy = join(scratch, `mapping-${basename(dirname(hostFile as string))}-${Date.now()}.yaml`);
  await writeFile(copy, doc.toString());
  return (await loadMapping(copy)).topics;
}

function specProperties(): string[] {
  return Object.keys(obj(loadSpec().connectionSpecification.properties, 'spec properties'));
}

/** Every ${VAR} without a default in a config text. */
function requiredVariables(source: string): string[] {
  return [...source.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((m) => m[1] as string);
}

// ---------------------------------------------------------------------------------------------

describe('Dockerfile', () => {
  const build = stageNamed(runtime.copies.find((c) => c.targets.some((t) => t.endsWith('/dist')))?.from ?? '');

  it('builds on node:20-bookworm-slim in one stage and runs on it in another', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) expect(stage.base).toMatch(/^node:20(\.\d+)*-bookworm-slim(@sha256:[0-9a-f]+)?$/);
    expect(build).not.toBe(runtime);
    const at = (re: RegExp): number => {
      const run = build.runs.find((r) => re.test(r.command));
      expect(run, `build stage: no RUN matching ${re}`).toBeDefined();
      return (run as { index: number }).index * 1000 + (run as { command: string }).command.search(re);
    };
    const install = at(/\bnpm ci\b/);
    const compile = at(/\bnpm run build\b/);
    const prune = at(/\bnpm prune\b[^&;|]*--omit=dev/);
    expect(install).toBeLessThan(compile);
    // Pruning before the build would remove the compiler.
    expect(compile).toBeLessThan(prune);
  });

  it('COPYs only files that exist in the repository and survive .dockerignore', () => {
    for (const stage of stages) {
      for (const copy of stage.copies) {
        copy.sources.forEach((source, i) => {
          if (copy.from === undefined) {
            expect(existsSync(repo(source)), `COPY ${source}: not in the repository`).toBe(true);
            expect(dockerIgnored(source), `COPY ${source}: excluded by .dockerignore`).toBe(false);
          } else {
            const origin = originOf(stage, copy.targets[i] ?? '');
            expect(origin, `COPY --from=${copy.from} ${source}: that stage neither copies nor builds it`).toBeDefined();
            expect(existsSync(repo((origin as Origin).path)), `COPY --from=${copy.from} ${source}: ${(origin as Origin).path} missing`).toBe(true);
          }
        });
      }
    }
  });

  it('gives `npm ci` and `npm run build` every file they read, before they run', () => {
    const buildConfig = JSON.parse(readText('tsconfig.build.json')) as { extends?: string; include: string[] };
    const needed = ['package.json', 'package-lock.json', 'tsconfig.build.json'];
    if (buildConfig.extends) needed.push(posix.normalize(buildConfig.extends));
    needed.push(...buildConfig.include.map((glob) => glob.split('/')[0] as string));
    // Sources may import files from outside their folder (the mapping JSON Schema); tsc needs those too.
    const walk = (dir: string): string[] =>
      readdirSync(repo(dir)).flatMap((name) => {
        const path = posix.join(dir, name);
        return statSync(repo(path)).isDirectory() ? walk(path) : path.endsWith('.ts') ? [path] : [];
      });
    for (const file of walk('connector')) {
      for (const m of readText(file).matchAll(/(?:from|import\()\s*'(\.[^']+)'/g)) {
        const target = posix.join(posix.dirname(file), m[1] as string);
        if (!target.startsWith('connector/')) needed.push(target);
      }
    }
    const compile = build.runs.find((r) => /\bnpm run build\b/.test(r.command)) as { index: number };
    const install = build.runs.find((r) => /\bnpm ci\b/.test(r.command)) as { index: number };
    for (const file of new Set(needed)) {
      const origin = originOf(build, posix.join(build.workdir, file));
      expect(origin, `build stage lacks ${file}`).toBeDefined();
      expect(dockerIgnored(file), `${file} is excluded by .dockerignore`).toBe(false);
      const before = file.startsWith('package') ? install : compile;
      expect((origin as Origin).index, `${file} is copied after the RUN that needs it`).toBeLessThan(before.index);
    }
  });

  it('keeps host builds, dependencies and caches out of the build context', () => {
    for (const path of ['node_modules', 'dist', '.cache', '.git']) expect(dockerIgnored(path), path).toBe(true);
  });

  it('enters through the CLI that the build produces, as package.json bin and AIRBYTE_ENTRYPOINT say', () => {
    const entrypoint = runtime.entrypoint ?? [];
    expect(entrypoint[0]).toBe('node');
    const pkg = JSON.parse(readText('package.json')) as { bin: Record<string, string> };
    const origin = originOf(runtime, entryScript());
    expect(origin?.path).toBe(posix.normalize(Object.values(pkg.bin)[0] ?? ''));
    expect(existsSync(repo((origin as Origin).path)), `${(origin as Origin).path} missing: has the build run?`).toBe(true);
    expect(runtime.env.get('AIRBYTE_ENTRYPOINT')).toBe(entrypoint.join(' '));
    expect(runtime.cmd?.[0]).toBe('run');
  });

  it('runs as a non-root user and exposes the default metrics port', () => {
    expect(runtime.user, 'runtime stage sets no USER').toBeDefined();
    expect(runtime.user?.split(':')[0]).not.toMatch(/^(root|0)$/);
    const metrics = obj(obj(loadSpec().connectionSpecification.properties, 'properties').metrics, 'metrics');
    const port = obj(obj(metrics.properties, 'metrics.properties').port, 'metrics.port').default;
    expect(runtime.expose.map((p) => p.split('/')[0])).toContain(String(port));
  });

  it('has everything the CLI needs at runtime: the staged image answers `spec`', async () => {
    const child = runImage(['spec']);
    const line = await firstLine(child);
    const message = JSON.parse(line) as { type: string; spec: { connectionSpecification: unknown } };
    expect(message.type).toBe('SPEC');
    expect(message.spec.connectionSpecification).toEqual(loadSpec().connectionSpecification);
    expect((await once(child, 'exit'))[0]).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------

/** Compose's variable substitution with an empty environment: defaults apply, `$$` is a `$`. */
function interpolate(value: unknown): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}/g, (whole, _name, fallback: string | undefined) =>
      whole === '$$' ? '$' : (fallback ?? ''),
    );
  }
  if (Array.isArray(value)) return value.map(interpolate);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v)]));
  return value;
}

function durationMs(value: string): number {
  let total = 0;
  for (const [, n, unit] of value.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) {
    total += Number(n) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit as 'ms' | 's' | 'm' | 'h'];
  }
  return total;
}

/** host port → container port, from short or long syntax. */
function publishedPorts(service: Json): Map<number, number> {
  const ports = new Map<number, number>();
  for (const entry of (service.ports ?? []) as unknown[]) {
    if (typeof entry === 'object' && entry !== null) {
      const { published, target } = entry as { published?: unknown; target?: unknown };
      if (published !== undefined) ports.set(Number(published), Number(target));
    } else {
      const parts = String(entry).split('/')[0]?.split(':') ?? [];
      if (parts.length >= 2) ports.set(Number(parts.at(-2)), Number(parts.at(-1)));
    }
  }
  return ports;
}

describe('docker-compose.yml', () => {
  const compose = obj(interpolate(parse(readText('docker-compose.yml'), { merge: true })), 'docker-compose.yml');
  const services = obj(compose.services, 'services');
  const service = (name: string): Json => obj(services[name], `services.${name}`);
  const command = (name: string): string[] => list(service(name).command, `services.${name}.command`).map((a) => text(a, 'command'));
  const flag = (args: string[], name: string): string | undefined => args[args.indexOf(name) + 1];
  const env = (name: string): Json => obj(service(name).environment ?? {}, `services.${name}.environment`);

  const mounts = (name: string): { source: string; target: string }[] =>
    ((service(name).volumes ?? []) as unknown[]).map((v) => {
      const [source = '', target = ''] = typeof v === 'string' ? v.split(':') : [text(obj(v, 'volume').source, 'source'), text(obj(v, 'volume').target, 'target')];
      return { source, target };
    });

  const hostIn = (name: string): HostPath => (containerPath) => {
    const mount = mounts(name)
      .filter((m) => containerPath === m.target || containerPath.startsWith(`${m.target}/`))
      .sort((a, b) => b.target.length - a.target.length)[0];
    if (mount && /^[.~/]/.test(mount.source)) {
      const path = join(resolve(root, mount.source), containerPath.slice(mount.target.length));
      return existsSync(path) ? path : undefined;
    }
    return imagePath(containerPath);
  };

  /** The connector's config as the container reads it. */
  const connectorConfig = (): { config: Config; source: string } => {
    const args = command('connector');
    expect(args.slice(0, 2)).toEqual(['run', '--config']);
    const file = args[2] as string;
    const hostFile = hostIn('connector')(file);
    expect(hostFile, `${file} is not mounted into the connector`).toBeDefined();
    expect(relative(root, hostFile as string)).toBe(join('deploy', 'compose', 'config.yaml'));
    const source = readFileSync(hostFile as string, 'utf8');
    const environment = Object.fromEntries(Object.entries(env('connector')).map(([k, v]) => [k, String(v)]));
    return { config: parseConfig(source, file, environment), source };
  };

  const listeners = (setting: string): Map<string, { host: string; port: number }> => {
    const result = new Map<string, { host: string; port: number }>();
    for (const item of text(env('kafka')[setting], `kafka ${setting}`).split(',')) {
      const m = /^([A-Z_]+):\/\/([^:]*):(\d+)$/.exec(item.trim());
      expect(m, `${setting}: cannot read ${item}`).not.toBeNull();
      const [, name = '', host = '', port = ''] = m as RegExpExecArray;
      result.set(name, { host, port: Number(port) });
    }
    return result;
  };

  it('runs Kafka 4.1.1 as one combined KRaft node', () => {
    const kafka = env('kafka');
    expect(service('kafka').image).toBe('apache/kafka:4.1.1');
    expect(text(kafka.KAFKA_PROCESS_ROLES, 'roles').split(',').map((r) => r.trim()).sort()).toEqual(['broker', 'controller']);
    const nodeId = text(kafka.KAFKA_NODE_ID, 'KAFKA_NODE_ID');
    const bound = listeners('KAFKA_LISTENERS');
    const controller = text(kafka.KAFKA_CONTROLLER_LISTENER_NAMES, 'controller listener');
    const [voterId, voterAddress] = text(kafka.KAFKA_CONTROLLER_QUORUM_VOTERS, 'voters').split('@');
    expect(voterId).toBe(nodeId);
    expect(voterAddress).toBe(`kafka:${bound.get(controller)?.port}`);
    // The storage is formatted with this id: Kafka takes only a base64url-encoded 16-byte UUID.
    expect(Buffer.from(text(kafka.CLUSTER_ID, 'CLUSTER_ID'), 'base64url')).toHaveLength(16);
    const protocols = new Set(text(kafka.KAFKA_LISTENER_SECURITY_PROTOCOL_MAP, 'protocol map').split(',').map((p) => p.split(':')[0]));
    for (const name of bound.keys()) expect(protocols, `no security protocol for listener ${name}`).toContain(name);
    expect(bound.has(text(kafka.KAFKA_INTER_BROKER_LISTENER_NAME, 'inter-broker listener'))).toBe(true);
    expect(Number(kafka.KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR)).toBe(1);
  });

  it('advertises kafka:9092 to containers and localhost:9092 to the host, each on a listener that reaches it', () => {
    const bound = listeners('KAFKA_LISTENERS');
    const advertised = [...listeners('KAFKA_ADVERTISED_LISTENERS')];
    const published = publishedPorts(service('kafka'));
    const inside = advertised.find(([, a]) => a.host === 'kafka' && a.port === 9092);
    expect(inside, 'nothing advertises kafka:9092').toBeDefined();
    expect(bound.get(inside?.[0] ?? '')?.port).toBe(9092);
    const outside = advertised.find(([, a]) => a.host === 'localhost' && a.port === 9092);
    expect(outside, 'nothing advertises localhost:9092').toBeDefined();
    expect(published.get(9092), 'host port 9092 is not published').toBe(bound.get(outside?.[0] ?? '')?.port);
  });

  it('runs the sandbox and the connector from the image this Dockerfile builds', () => {
    for (const name of ['sandbox', 'connector']) {
      const spec = service(name);
      const context = typeof spec.build === 'string' ? spec.build : obj(spec.build, `${name}.build`).context;
      expect(resolve(root, text(context, `${name} build context`))).toBe(resolve(root));
    }
    expect(service('sandbox').image).toBe(service('connector').image);
  });

  it("starts a sandbox that answers the connector's config: real flags, same client code and port", async () => {
    const args = command('sandbox');
    const { config } = connectorConfig();
    expect(args[0]).toBe('simulate-target');
    expect(flag(args, '--host')).toBe('0.0.0.0');
    expect(args).toContain('--create-missing');
    expect(config.target.base_url).toBe(`http://sandbox:${flag(args, '--port')}`);
    expect(flag(args, '--client-code')).toBe(config.target.client_code);
    expect(publishedPorts(service('sandbox')).get(Number(flag(args, '--port')))).toBe(Number(flag(args, '--port')));

    // The same flags on the staged image, moved to a free local port.
    const local = [...args];
    local[local.indexOf('--host') + 1] = '127.0.0.1';
    local[local.indexOf('--port') + 1] = '0';
    const child = runImage(local);
    const url = /^listening on (http:\/\/\S+)$/.exec(await firstLine(child))?.[1];
    expect(url).toBeDefined();
    const path = config.target.path.replace('{client_code}', config.target.client_code);
    const reply = await fetch(`${url}${path}?mbox3rdPartyId=compose-1&profile.city=Malm%C3%B6`);
    expect(await reply.text()).toMatch(/^true/);
    child.kill('SIGTERM');
    expect((await once(child, 'exit'))[0]).toBe(0);
  });

  it("gives the connector a config that spec.json accepts and a mapping that loads in the container's layout", async () => {
    const { config, source } = connectorConfig();
    const keys = Object.keys(obj(parse(source), 'deploy/compose/config.yaml'));
    for (const key of keys) expect(specProperties(), `config key ${key}`).toContain(key);
    // localhost is advertised too, but inside the connector's container it is the connector itself.
    const reachable = [...listeners('KAFKA_ADVERTISED_LISTENERS').values()]
      .filter((a) => a.host in services || a.host === service('kafka').hostname)
      .map((a) => `${a.host}:${a.port}`);
    for (const broker of config.kafka.brokers) expect(reachable, `broker ${broker} is not advertised to containers`).toContain(broker);
    const topics = await loadMappingAsContainer(config.mapping_file, hostIn('connector'));
    expect(topics.length).toBeGreaterThan(0);

    // The connector does not auto-create topics; the one-shot service must create each it reads or writes.
    const created = text(env('topics').TOPICS, 'topics TOPICS').split(/\s+/);
    for (const topic of [...topics, config.delivery.dead_letter_topic]) expect(created, `topic ${topic}`).toContain(topic);
    const dependsOn = obj(service('connector').depends_on, 'connector.depends_on');
    expect(obj(dependsOn.topics, 'depends_on.topics').condition).toBe('service_completed_successfully');
  });

  it('publishes the metrics port and lets the connector drain before Compose kills it', () => {
    const { config } = connectorConfig();
    expect(publishedPorts(service('connector')).get(config.metrics.port)).toBe(config.metrics.port);
    const grace = durationMs(text(service('connector').stop_grace_period ?? '10s', 'stop_grace_period'));
    expect(grace).toBeGreaterThan(config.delivery.shutdown_timeout_ms);
  });
});

// ---------------------------------------------------------------------------------------------

describe('deploy/kubernetes', () => {
  const folder = join('deploy', 'kubernetes');
  const documents = readdirSync(repo(folder))
    .filter((f) => /\.ya?ml$/.test(f))
    .flatMap((f) =>
      parseAllDocuments(readText(join(folder, f))).map((doc) => {
        expect(doc.errors, f).toEqual([]);
        return obj(doc.toJS(), f);
      }),
    );
  const find = (kind: string, name?: string): Json => {
    const found = documents.find((d) => d.kind === kind && (name === undefined || obj(d.metadata, 'metadata').name === name));
    if (!found) throw new Error(`deploy/kubernetes: no ${kind}${name ? ` named ${name}` : ''}`);
    return found;
  };

  const deployment = find('Deployment');
  const spec = obj(deployment.spec, 'Deployment.spec');
  const pod = obj(obj(spec.template, 'template').spec, 'template.spec');
  const container = obj(list(pod.containers, 'containers')[0], 'containers[0]');
  const containerEnv = list(container.env ?? [], 'env').map((e) => obj(e, 'env entry'));
  const replicas = Number(spec.replicas);

  const configMount = (): { mountPath: string; data: Json } => {
    const args = list(container.args ?? runtime.cmd, 'args').map((a) => text(a, 'arg'));
    const file = args[args.indexOf('--config') + 1] ?? '';
    const mount = list(container.volumeMounts, 'volumeMounts')
      .map((m) => obj(m, 'volumeMount'))
      .find((m) => file.startsWith(`${text(m.mountPath, 'mountPath')}/`));
    expect(mount, `${file} is not under a volume mount`).toBeDefined();
    const volume = list(pod.volumes, 'volumes')
      .map((v) => obj(v, 'volume'))
      .find((v) => v.name === mount?.name);
    const configMap = find('ConfigMap', text(obj(volume?.configMap, 'volume.configMap').name, 'configMap.name'));
    return { mountPath: text(mount?.mountPath, 'mountPath'), data: obj(configMap.data, 'ConfigMap.data') };
  };

  const loadedConfig = (): { config: Config; source: string; env: Record<string, string> } => {
    const { mountPath, data } = configMount();
    const args = list(container.args ?? runtime.cmd, 'args').map((a) => text(a, 'arg'));
    const file = args[args.indexOf('--config') + 1] ?? '';
    const source = text(data[posix.relative(mountPath, file)], `ConfigMap key for ${file}`);
    const env = Object.fromEntries(containerEnv.map((e) => [text(e.name, 'env name'), `value-of-${String(e.name)}`]));
    return { config: parseConfig(source, file, env), source, env };
  };

  it('parses, and the Deployment selects its own pods', () => {
    expect(documents.map((d) => d.kind)).toEqual(expect.arrayContaining(['Deployment', 'ConfigMap', 'Secret']));
    const labels = obj(obj(obj(spec.template, 'template').metadata, 'template.metadata').labels, 'labels');
    expect(labels).toMatchObject(obj(obj(spec.selector, 'selector').matchLabels, 'matchLabels'));
  });

  it('scales out with several replicas in one consumer group, each within its share of the daily quota', () => {
    const { config, source } = loadedConfig();
    expect(replicas).toBeGreaterThan(1);
    // Without an explicit group a config edit could split replicas into groups that each read everything.
    expect(obj(parse(source), 'config').kafka).toHaveProperty('group_id');
    expect(config.delivery.daily_quota * replicas).toBeLessThanOrEqual(ACCOUNT_DAILY_QUOTA);
    const strategy = obj(obj(spec.strategy ?? {}, 'strategy').rollingUpdate ?? {}, 'rollingUpdate');
    // A surge pod runs one more quota share than the arithmetic above allows.
    expect(String(strategy.maxSurge)).toMatch(/^0%?$/);
  });

  it('reads its config from the ConfigMap: valid against spec.json, with a mapping that loads', async () => {
    const { config, source } = loadedConfig();
    for (const key of Object.keys(obj(parse(source), 'config'))) expect(specProperties(), `config key ${key}`).toContain(key);
    const { mountPath, data } = configMount();
    const configFolder = join(scratch, 'k8s-config');
    await mkdir(configFolder, { recursive: true });
    for (const [name, content] of Object.entries(data)) await writeFile(join(configFolder, name), text(content, name));
    const host: HostPath = (p) => {
      if (p.startsWith(`${mountPath}/`)) {
        const path = join(configFolder, p.slice(mountPath.length + 1));
        return existsSync(path) ? path : undefined;
      }
      return imagePath(p);
    };
    expect((await loadMappingAsContainer(config.mapping_file, host)).length).toBeGreaterThan(0);
  });

  it('takes the SASL password from a Secret through ${KAFKA_PASSWORD}, never from the ConfigMap', () => {
    const { config, source, env } = loadedConfig();
    for (const name of requiredVariables(source)) expect(Object.keys(env), `\${${name}} is not in the container's env`).toContain(name);
    expect(config.kafka.sasl?.password).toBe(env.KAFKA_PASSWORD);
    const password = containerEnv.find((e) => e.name === 'KAFKA_PASSWORD');
    const ref = obj(obj(password?.valueFrom, 'KAFKA_PASSWORD.valueFrom').secretKeyRef, 'secretKeyRef');
    const secret = find('Secret', text(ref.name, 'secretKeyRef.name'));
    expect(Object.keys({ ...obj(secret.stringData ?? {}, 'stringData'), ...obj(secret.data ?? {}, 'data') })).toContain(ref.key);
  });

  it('probes /healthz and /readyz on the metrics port', () => {
    const { config } = loadedConfig();
    const ports = list(container.ports, 'ports').map((p) => obj(p, 'port'));
    const portOf = (probe: string): number => {
      const port = obj(obj(container[probe], probe).httpGet, `${probe}.httpGet`).port;
      return typeof port === 'number' ? port : Number(ports.find((p) => p.name === port)?.containerPort);
    };
    const pathOf = (probe: string): unknown => obj(obj(container[probe], probe).httpGet, `${probe}.httpGet`).path;
    expect(pathOf('livenessProbe')).toBe('/healthz');
    expect(pathOf('readinessProbe')).toBe('/readyz');
    expect(portOf('livenessProbe')).toBe(config.metrics.port);
    expect(portOf('readinessProbe')).toBe(config.metrics.port);
  });

  it('gives SIGTERM longer than delivery.shutdown_timeout_ms before the kill', () => {
    const { config } = loadedConfig();
    expect(Number(pod.terminationGracePeriodSeconds) * 1000).toBeGreaterThan(config.delivery.shutdown_timeout_ms);
  });

  it('bounds memory, keeps the V8 heap under the limit, and runs as non-root', () => {
    const resources = obj(container.resources, 'resources');
    const mebibytes = (q: unknown): number => {
      const m = /^(\d+)(Mi|Gi)$/.exec(text(q, 'memory quantity'));
      expect(m, `memory ${String(q)}`).not.toBeNull();
      return Number(m?.[1]) * (m?.[2] === 'Gi' ? 1024 : 1);
    };
    const limit = mebibytes(obj(resources.limits, 'limits').memory);
    expect(mebibytes(obj(resources.requests, 'requests').memory)).toBeLessThanOrEqual(limit);
    const heap = /--max-old-space-size=(\d+)/.exec(String(containerEnv.find((e) => e.name === 'NODE_OPTIONS')?.value ?? ''));
    if (heap) expect(Number(heap[1])).toBeLessThan(limit);
    const security = { ...obj(pod.securityContext ?? {}, 'pod securityContext'), ...obj(container.securityContext ?? {}, 'securityContext') };
    expect(security.runAsNonRoot).toBe(true);
    // The kubelet can only verify runAsNonRoot for a numeric user.
    expect(Number(security.runAsUser ?? runtime.user)).toBeGreaterThan(0);
  });
});
