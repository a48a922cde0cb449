/**
 * Packaging checks that need no Docker engine: the Dockerfile, docker-compose.yml and the
 * Kubernetes example are read as data and held against the repository, spec.json, the config
 * loader and the mapping loader. The runtime image's /app is staged from the Dockerfile's COPY
 * lines and its ENTRYPOINT is run, so a file the image forgets fails here rather than in a pod.
 * Assumes the build ran (`npm ci` runs it on prepare; otherwise `npm run build`).
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, posix, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { maskReferences } from '../../connector/adapters/config/env.js';
import { parseConfig } from '../../connector/adapters/config/load.js';
import { loadSpec } from '../../connector/adapters/config/spec.js';
import type { Config } from '../../connector/core/config.js';
import { bindMounts, durationMs, publishedPorts, readCompose, volumeMounts } from '../support/compose.js';
import { containerFiles, loadMappingAsContainer, type HostPath } from '../support/container-files.js';
import { originOf, parseDockerfile, stageOf, type Origin, type Stage } from '../support/dockerfile.js';
import { isIgnored, parseDockerignore } from '../support/dockerignore.js';
import { firstLine, imageLayout, stageImage, startEntrypoint } from '../support/image-stage.js';
import { listenerAddresses, type ListenerAddress } from '../support/kafka-listeners.js';
import { asList, asMapping, asText, type Json } from '../support/manifest.js';
import { testTempDir } from '../support/test-run.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const repo = (...parts: string[]): string => join(root, ...parts);
const readText = (path: string): string => readFileSync(repo(path), 'utf8');

/** Target's limit per account and rolling 24 hours. */
const ACCOUNT_DAILY_QUOTA = 1_000_000;

const stages = parseDockerfile(readText('Dockerfile'));
const runtime = stages.at(-1) as Stage;
const outDir = (JSON.parse(readText('tsconfig.json')) as { compilerOptions: { outDir: string } }).compilerOptions.outDir;
const originIn = (stage: Stage, imagePath: string): Origin | undefined => originOf(stages, stage, imagePath, outDir);
const ignoreRules = parseDockerignore(readText('.dockerignore'));
const dockerIgnored = (path: string): boolean => isIgnored(ignoreRules, path);
const specProperties = (): string[] => Object.keys(asMapping(loadSpec().connectionSpecification.properties, 'spec properties'));

// The staged image: the runtime stage's COPYs laid out under a temporary root.
let scratch = '';
let imageRoot = '';
const children: ChildProcessWithoutNullStreams[] = [];

beforeAll(async () => {
  if (!existsSync(repo('dist'))) throw new Error(`no dist/ in ${root}: run \`npm run build\` first (npm ci runs it on prepare)`);
  scratch = await testTempDir('packaging');
  imageRoot = join(scratch, 'image');
  // A COPY whose source is missing is left out here and reported by the COPY test.
  await stageImage(imageLayout(stages, runtime, outDir), root, imageRoot);
});

afterAll(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

/** Runs the image's ENTRYPOINT with `args` on the staged image; killed at the end of the file if still running. */
function runImage(args: string[]): ChildProcessWithoutNullStreams {
  expect(runtime.entrypoint?.[0]).toBe('node');
  const child = startEntrypoint(runtime, imageRoot, args);
  children.push(child);
  return child;
}

// ---------------------------------------------------------------------------------------------

describe('Dockerfile', () => {
  const build = stageOf(stages, runtime.copies.find((c) => c.targets.some((t) => t.endsWith('/dist')))?.from ?? '');

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
          let contextPath = source;
          if (copy.from === undefined) {
            expect(existsSync(repo(source)), `COPY ${source}: not in the repository`).toBe(true);
            expect(dockerIgnored(source), `COPY ${source}: excluded by .dockerignore`).toBe(false);
          } else {
            const origin = originIn(stage, copy.targets[i] ?? '');
            expect(origin, `COPY --from=${copy.from} ${source}: that stage neither copies nor builds it`).toBeDefined();
            expect(existsSync(repo((origin as Origin).path)), `COPY --from=${copy.from} ${source}: ${(origin as Origin).path} missing`).toBe(true);
            contextPath = (origin as Origin).path;
          }
          // Docker lands a folder's contents in a `dest/` folder; the staged image and originOf would put the folder itself there.
          const folderIntoFolder = copy.intoFolder && statSync(repo(contextPath)).isDirectory();
          expect(
            folderIntoFolder,
            `COPY ${source}: a folder copied into a folder lands only its contents there, not at ${copy.targets[i]}; copy it to ${copy.targets[i]} itself`,
          ).toBe(false);
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
      const origin = originIn(build, posix.join(build.workdir, file));
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
    const origin = originIn(runtime, entrypoint[1] ?? '');
    expect(origin?.path).toBe(posix.normalize(Object.values(pkg.bin)[0] ?? ''));
    expect(existsSync(repo((origin as Origin).path)), `${(origin as Origin).path} missing: has the build run?`).toBe(true);
    expect(runtime.env.get('AIRBYTE_ENTRYPOINT')).toBe(entrypoint.join(' '));
    expect(runtime.cmd?.[0]).toBe('run');
  });

  it('runs as a non-root user and exposes the default metrics port', () => {
    expect(runtime.user, 'runtime stage sets no USER').toBeDefined();
    expect(runtime.user?.split(':')[0]).not.toMatch(/^(root|0)$/);
    const metrics = asMapping(asMapping(loadSpec().connectionSpecification.properties, 'properties').metrics, 'metrics');
    const port = asMapping(asMapping(metrics.properties, 'metrics.properties').port, 'metrics.port').default;
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

describe('docker-compose.yml', () => {
  const compose = readCompose(readText('docker-compose.yml'));
  const services = asMapping(compose.services, 'services');
  const service = (name: string): Json => asMapping(services[name], `services.${name}`);
  const command = (name: string): string[] => asList(service(name).command, `services.${name}.command`).map((a) => asText(a, 'command'));
  const flag = (args: string[], name: string): string | undefined => args[args.indexOf(name) + 1];
  const env = (name: string): Json => asMapping(service(name).environment ?? {}, `services.${name}.environment`);

  /** A service's files: its bind mounts over the staged image. */
  const hostIn = (name: string): HostPath => containerFiles(bindMounts(volumeMounts(service(name)), { project: root, home: homedir() }), imageRoot);

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

  const listeners = (setting: string): Map<string, ListenerAddress> => listenerAddresses(setting, asText(env('kafka')[setting], `kafka ${setting}`));

  it('runs Kafka 4.1.1 as one combined KRaft node', () => {
    const kafka = env('kafka');
    expect(service('kafka').image).toBe('apache/kafka:4.1.1');
    expect(
      asText(kafka.KAFKA_PROCESS_ROLES, 'roles')
        .split(',')
        .map((r) => r.trim())
        .sort(),
    ).toEqual(['broker', 'controller']);
    const nodeId = asText(kafka.KAFKA_NODE_ID, 'KAFKA_NODE_ID');
    const bound = listeners('KAFKA_LISTENERS');
    const controller = asText(kafka.KAFKA_CONTROLLER_LISTENER_NAMES, 'controller listener');
    const [voterId, voterAddress] = asText(kafka.KAFKA_CONTROLLER_QUORUM_VOTERS, 'voters').split('@');
    expect(voterId).toBe(nodeId);
    expect(voterAddress).toBe(`kafka:${bound.get(controller)?.port}`);
    // The storage is formatted with this id: Kafka takes only a base64url-encoded 16-byte UUID.
    expect(Buffer.from(asText(kafka.CLUSTER_ID, 'CLUSTER_ID'), 'base64url')).toHaveLength(16);
    const protocols = new Set(
      asText(kafka.KAFKA_LISTENER_SECURITY_PROTOCOL_MAP, 'protocol map')
        .split(',')
        .map((p) => p.split(':')[0]),
    );
    for (const name of bound.keys()) expect(protocols, `no security protocol for listener ${name}`).toContain(name);
    expect(bound.has(asText(kafka.KAFKA_INTER_BROKER_LISTENER_NAME, 'inter-broker listener'))).toBe(true);
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
      const context = typeof spec.build === 'string' ? spec.build : asMapping(spec.build, `${name}.build`).context;
      expect(resolve(root, asText(context, `${name} build context`))).toBe(resolve(root));
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
    const keys = Object.keys(asMapping(parse(source), 'deploy/compose/config.yaml'));
    for (const key of keys) expect(specProperties(), `config key ${key}`).toContain(key);
    // localhost is advertised too, but inside the connector's container it is the connector itself.
    const reachable = [...listeners('KAFKA_ADVERTISED_LISTENERS').values()]
      .filter((a) => a.host in services || a.host === service('kafka').hostname)
      .map((a) => `${a.host}:${a.port}`);
    for (const broker of config.kafka.brokers) expect(reachable, `broker ${broker} is not advertised to containers`).toContain(broker);
    const topics = await loadMappingAsContainer(config.mapping_file, hostIn('connector'), scratch);
    expect(topics.length).toBeGreaterThan(0);

    // The connector does not auto-create topics; the one-shot service must create each it reads or writes.
    const created = asText(env('topics').TOPICS, 'topics TOPICS').split(/\s+/);
    for (const topic of [...topics, config.delivery.dead_letter_topic]) expect(created, `topic ${topic}`).toContain(topic);
    const dependsOn = asMapping(service('connector').depends_on, 'connector.depends_on');
    expect(asMapping(dependsOn.topics, 'depends_on.topics').condition).toBe('service_completed_successfully');
  });

  it('publishes the metrics port and lets the connector drain before Compose kills it', () => {
    const { config } = connectorConfig();
    expect(publishedPorts(service('connector')).get(config.metrics.port)).toBe(config.metrics.port);
    const grace = durationMs(asText(service('connector').stop_grace_period ?? '10s', 'stop_grace_period'));
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
        return asMapping(doc.toJS(), f);
      }),
    );
  const find = (kind: string, name?: string): Json => {
    const found = documents.find((d) => d.kind === kind && (name === undefined || asMapping(d.metadata, 'metadata').name === name));
    if (!found) throw new Error(`deploy/kubernetes: no ${kind}${name ? ` named ${name}` : ''}`);
    return found;
  };

  const deployment = find('Deployment', 'target-profile-sink');
  const spec = asMapping(deployment.spec, 'Deployment.spec');
  const pod = asMapping(asMapping(spec.template, 'template').spec, 'template.spec');
  const container = asMapping(asList(pod.containers, 'containers')[0], 'containers[0]');
  const containerEnv = asList(container.env ?? [], 'env').map((e) => asMapping(e, 'env entry'));
  const replicas = Number(spec.replicas);

  /** The labels of a workload's pod template. */
  const podLabels = (workload: Json): Json =>
    asMapping(asMapping(asMapping(asMapping(workload.spec, 'spec').template, 'template').metadata, 'template.metadata').labels, 'template labels');
  /** Whether `matchLabels` selects pods labelled `labels`. */
  const selects = (matchLabels: Json, labels: Json): boolean => Object.entries(matchLabels).every(([key, value]) => labels[key] === value);
  /** The names of the Deployments whose pods `matchLabels` selects. */
  const selectedWorkloads = (matchLabels: Json): string[] =>
    documents
      .filter((d) => d.kind === 'Deployment' && selects(matchLabels, podLabels(d)))
      .map((d) => asText(asMapping(d.metadata, 'metadata').name, 'metadata.name'));
  /** The Secret and key an env entry of a container reads, checked to exist in the folder. */
  const secretKeyOf = (env: Json[], name: string): { secret: string; key: string } => {
    const entry = env.find((e) => e.name === name);
    const ref = asMapping(asMapping(entry?.valueFrom, `${name}.valueFrom`).secretKeyRef, `${name}.secretKeyRef`);
    const secretName = asText(ref.name, 'secretKeyRef.name');
    const key = asText(ref.key, 'secretKeyRef.key');
    const secret = find('Secret', secretName);
    expect(Object.keys({ ...asMapping(secret.stringData ?? {}, 'stringData'), ...asMapping(secret.data ?? {}, 'data') }), `Secret ${secretName}`).toContain(
      key,
    );
    return { secret: secretName, key };
  };

  const configMount = (): { mountPath: string; data: Json } => {
    const args = asList(container.args ?? runtime.cmd, 'args').map((a) => asText(a, 'arg'));
    const file = args[args.indexOf('--config') + 1] ?? '';
    const mount = asList(container.volumeMounts, 'volumeMounts')
      .map((m) => asMapping(m, 'volumeMount'))
      .find((m) => file.startsWith(`${asText(m.mountPath, 'mountPath')}/`));
    expect(mount, `${file} is not under a volume mount`).toBeDefined();
    const volume = asList(pod.volumes, 'volumes')
      .map((v) => asMapping(v, 'volume'))
      .find((v) => v.name === mount?.name);
    const configMap = find('ConfigMap', asText(asMapping(volume?.configMap, 'volume.configMap').name, 'configMap.name'));
    return { mountPath: asText(mount?.mountPath, 'mountPath'), data: asMapping(configMap.data, 'ConfigMap.data') };
  };

  const loadedConfig = (): { config: Config; source: string; env: Record<string, string> } => {
    const { mountPath, data } = configMount();
    const args = asList(container.args ?? runtime.cmd, 'args').map((a) => asText(a, 'arg'));
    const file = args[args.indexOf('--config') + 1] ?? '';
    const source = asText(data[posix.relative(mountPath, file)], `ConfigMap key for ${file}`);
    const env = Object.fromEntries(containerEnv.map((e) => [asText(e.name, 'env name'), `value-of-${String(e.name)}`]));
    return { config: parseConfig(source, file, env), source, env };
  };

  it('parses, and each Deployment selects its own pods and no other', () => {
    expect(documents.map((d) => d.kind)).toEqual(expect.arrayContaining(['Deployment', 'ConfigMap', 'Secret', 'Service', 'PodDisruptionBudget']));
    for (const workload of documents.filter((d) => d.kind === 'Deployment')) {
      const name = asText(asMapping(workload.metadata, 'metadata').name, 'metadata.name');
      const matchLabels = asMapping(asMapping(asMapping(workload.spec, 'spec').selector, 'selector').matchLabels, `${name} matchLabels`);
      expect(selectedWorkloads(matchLabels), `Deployment ${name} selects`).toEqual([name]);
    }
  });

  it("scales out with several replicas in one consumer group, sharing the account's whole quota in Redis", () => {
    const { config, source } = loadedConfig();
    expect(replicas).toBeGreaterThan(1);
    // Without an explicit group a config edit could split replicas into groups that each read everything.
    expect(asMapping(parse(source), 'config').kafka).toHaveProperty('group_id');
    // The account's quota for the fleet, not a per-replica split: the replicas take from one window.
    expect(config.delivery.daily_quota).toBe(ACCOUNT_DAILY_QUOTA);
    expect(config.delivery.quota_store.kind).toBe('redis');
    const strategy = asMapping(asMapping(spec.strategy ?? {}, 'strategy').rollingUpdate ?? {}, 'rollingUpdate');
    // A surge pod would shrink every replica's local share (the fallback while Redis is away) for a whole window.
    expect(String(strategy.maxSurge)).toMatch(/^0%?$/);
  });

  it('points the quota store at the Redis Service of the example: one Redis pod at a time, its password from the Secret the connector reads', () => {
    const { config } = loadedConfig();
    const url = new URL(config.delivery.quota_store.url ?? '');
    const service = find('Service', url.hostname);
    const serviceSpec = asMapping(service.spec, 'Service.spec');
    const servicePort = asList(serviceSpec.ports, 'Service ports')
      .map((p) => asMapping(p, 'Service port'))
      .find((p) => Number(p.port) === Number(url.port || 6379));
    expect(servicePort, `Service ${url.hostname} has no port ${url.port}`).toBeDefined();
    const selected = selectedWorkloads(asMapping(serviceSpec.selector, 'Service selector'));
    expect(selected, `Service ${url.hostname} selects`).toHaveLength(1);
    const redis = find('Deployment', selected[0]);
    const redisSpec = asMapping(redis.spec, 'Redis Deployment spec');
    // Two Redis pods behind the Service would keep two windows, each allowing the whole quota.
    expect(Number(redisSpec.replicas)).toBe(1);
    expect(asMapping(redisSpec.strategy, 'Redis strategy').type).toBe('Recreate');
    const redisContainer = asMapping(
      asList(asMapping(asMapping(redisSpec.template, 'template').spec, 'template.spec').containers, 'containers')[0],
      'Redis container',
    );
    const target = servicePort?.targetPort ?? servicePort?.port;
    const containerPorts = asList(redisContainer.ports, 'Redis ports').map((p) => asMapping(p, 'Redis port'));
    expect(
      containerPorts.some((p) => p.name === target || Number(p.containerPort) === Number(target)),
      `Service targetPort ${String(target)}`,
    ).toBe(true);
    // The server's command reads the password from its environment; the connector's config from its own.
    expect(asList(redisContainer.args ?? [], 'Redis args').join(' ')).toContain('$REDIS_PASSWORD');
    const redisEnv = asList(redisContainer.env ?? [], 'Redis env').map((e) => asMapping(e, 'Redis env entry'));
    expect(secretKeyOf(containerEnv, 'REDIS_PASSWORD')).toEqual(secretKeyOf(redisEnv, 'REDIS_PASSWORD'));
  });

  it('lets voluntary evictions take one connector pod at a time, and no Redis pod through that budget', () => {
    const budget = asMapping(find('PodDisruptionBudget').spec, 'PodDisruptionBudget.spec');
    expect(budget.maxUnavailable).toBe(1);
    const matchLabels = asMapping(asMapping(budget.selector, 'PodDisruptionBudget selector').matchLabels, 'PodDisruptionBudget matchLabels');
    expect(selectedWorkloads(matchLabels)).toEqual([asText(asMapping(deployment.metadata, 'metadata').name, 'metadata.name')]);
  });

  it('reads its config from the ConfigMap: valid against spec.json, with a mapping that loads', async () => {
    const { config, source } = loadedConfig();
    for (const key of Object.keys(asMapping(parse(source), 'config'))) expect(specProperties(), `config key ${key}`).toContain(key);
    const { mountPath, data } = configMount();
    const configFolder = join(scratch, 'k8s-config');
    await mkdir(configFolder, { recursive: true });
    for (const [name, content] of Object.entries(data)) await writeFile(join(configFolder, name), asText(content, name));
    const host = containerFiles([{ target: mountPath, host: configFolder }], imageRoot);
    expect((await loadMappingAsContainer(config.mapping_file, host, scratch)).length).toBeGreaterThan(0);
  });

  it('takes the SASL and Redis passwords from Secrets through ${KAFKA_PASSWORD} and ${REDIS_PASSWORD}, never from the ConfigMap', () => {
    const { config, source, env } = loadedConfig();
    const required = maskReferences(source).references.filter((r) => r.fallback === undefined);
    for (const ref of required) expect(Object.keys(env), `${ref.text} is not in the container's env`).toContain(ref.name);
    expect(config.kafka.sasl?.password).toBe(env.KAFKA_PASSWORD);
    expect(config.delivery.quota_store.password).toBe(env.REDIS_PASSWORD);
    for (const name of ['KAFKA_PASSWORD', 'REDIS_PASSWORD']) secretKeyOf(containerEnv, name);
  });

  it('probes /healthz and /readyz on the metrics port', () => {
    const { config } = loadedConfig();
    const ports = asList(container.ports, 'ports').map((p) => asMapping(p, 'port'));
    const portOf = (probe: string): number => {
      const port = asMapping(asMapping(container[probe], probe).httpGet, `${probe}.httpGet`).port;
      return typeof port === 'number' ? port : Number(ports.find((p) => p.name === port)?.containerPort);
    };
    const pathOf = (probe: string): unknown => asMapping(asMapping(container[probe], probe).httpGet, `${probe}.httpGet`).path;
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
    const resources = asMapping(container.resources, 'resources');
    const mebibytes = (q: unknown): number => {
      const m = /^(\d+)(Mi|Gi)$/.exec(asText(q, 'memory quantity'));
      expect(m, `memory ${String(q)}`).not.toBeNull();
      return Number(m?.[1]) * (m?.[2] === 'Gi' ? 1024 : 1);
    };
    const limit = mebibytes(asMapping(resources.limits, 'limits').memory);
    expect(mebibytes(asMapping(resources.requests, 'requests').memory)).toBeLessThanOrEqual(limit);
    const heap = /--max-old-space-size=(\d+)/.exec(String(containerEnv.find((e) => e.name === 'NODE_OPTIONS')?.value ?? ''));
    if (heap) expect(Number(heap[1])).toBeLessThan(limit);
    const security = { ...asMapping(pod.securityContext ?? {}, 'pod securityContext'), ...asMapping(container.securityContext ?? {}, 'securityContext') };
    expect(security.runAsNonRoot).toBe(true);
    // The kubelet can only verify runAsNonRoot for a numeric user.
    expect(Number(security.runAsUser ?? runtime.user)).toBeGreaterThan(0);
  });
});
