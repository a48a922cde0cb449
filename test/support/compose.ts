/**
 * docker-compose.yml read as Docker Compose reads it, for checks that need no Docker engine: YAML
 * merge keys, variable substitution, Go durations, published ports and volume mounts.
 */
import { posix } from 'node:path';
import { parse } from 'yaml';
import type { HostMount } from './container-files.js';
import { asMapping, asText, type Json } from './manifest.js';

// `$$`, `${NAME}` with an optional `:-` `-` `:?` `?` `:+` `+` modifier, or a bare `$NAME`.
const VARIABLE = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g;

/** Compose's variable substitution in every string value of `value` (keys are left alone). */
export function interpolate(value: unknown, env: Record<string, string | undefined> = {}): unknown {
  if (typeof value === 'string') {
    return value.replace(VARIABLE, (whole: string, braced?: string, modifier?: string, word?: string, bare?: string) => {
      if (whole === '$$') return '$';
      const name = (braced ?? bare) as string;
      const set = env[name];
      // With a colon the modifier treats an empty variable as unset, as in the shell.
      const present = modifier?.startsWith(':') ? set !== undefined && set !== '' : set !== undefined;
      switch (modifier?.at(-1)) {
        case '-':
          return present ? (set as string) : (word ?? '');
        case '?':
          if (!present) throw new Error(`${whole}: ${word || `${name} is required`}`);
          return set as string;
        case '+':
          return present ? (word ?? '') : '';
        default:
          return set ?? '';
      }
    });
  }
  if (Array.isArray(value)) return value.map((v) => interpolate(v, env));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, env)]));
  return value;
}

/** A compose file as Compose sees it: `<<` merge keys applied, then variables substituted from `env`. */
export function readCompose(source: string, env: Record<string, string | undefined> = {}): Json {
  return asMapping(interpolate(parse(source, { merge: true }), env), 'compose file');
}

const DURATION_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A Compose duration (Go syntax: `45s`, `1m30s`, `1.5h`, `500ms`) in milliseconds; throws on anything else. */
export function durationMs(value: string): number {
  if (value === '0') return 0;
  if (!/^(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h))+$/.test(value)) throw new Error(`${value}: not a duration (write e.g. 45s or 1m30s)`);
  let total = 0;
  for (const [, n, unit] of value.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/g)) total += Number(n) * (DURATION_UNITS[unit as string] as number);
  return total;
}

function portRange(text: string): number[] {
  const [first = '', last = first] = text.split('-');
  const range: number[] = [];
  for (let port = Number(first); port <= Number(last); port++) range.push(port);
  return range;
}

/** Host port → container port for every fixed host port a service publishes, short or long syntax. */
export function publishedPorts(service: Json): Map<number, number> {
  const ports = new Map<number, number>();
  const publish = (published: string, target: string): void => {
    const hosts = portRange(published);
    const containers = portRange(target);
    // A host range for one container port lets Docker pick one of them: no fixed mapping to report.
    if (hosts.length === containers.length) hosts.forEach((host, i) => ports.set(host, containers[i] as number));
  };
  for (const entry of (service.ports ?? []) as unknown[]) {
    if (typeof entry === 'object' && entry !== null) {
      const { published, target } = entry as { published?: unknown; target?: unknown };
      if (published !== undefined && published !== '') publish(String(published), String(target));
      continue;
    }
    // [host_ip:][published:]target[/protocol]; the host IP may itself hold colons ([::1]).
    const spec = String(entry).split('/')[0] ?? '';
    const cut = spec.lastIndexOf(':');
    if (cut < 0) continue;
    const target = spec.slice(cut + 1);
    const published = spec.slice(spec.lastIndexOf(':', cut - 1) + 1, cut);
    if (published !== '') publish(published, target);
  }
  return ports;
}

/** One entry of a service's `volumes`. */
export interface Mount {
  /** A host path (bind mount) or a volume name. */
  source: string;
  target: string;
}

/** A service's volumes, from short (`source:target[:mode]`) or long syntax. */
export function volumeMounts(service: Json): Mount[] {
  return ((service.volumes ?? []) as unknown[]).map((v, i) => {
    if (typeof v === 'string') {
      const parts = v.split(':');
      // A lone path is the target of an anonymous volume.
      return parts.length === 1 ? { source: '', target: v } : { source: parts[0] ?? '', target: parts[1] ?? '' };
    }
    const volume = asMapping(v, `volumes[${i}]`);
    return { source: asText(volume.source, `volumes[${i}].source`), target: asText(volume.target, `volumes[${i}].target`) };
  });
}

/** The bind mounts among `mounts` with their host paths (relative to `project`, `~` as `home`); named volumes are left out. */
export function bindMounts(mounts: Mount[], folders: { project: string; home: string }): HostMount[] {
  return mounts
    .filter((m) => /^[.~/]/.test(m.source))
    .map((m) => ({
      target: m.target,
      host: m.source === '~' || m.source.startsWith('~/') ? posix.join(folders.home, m.source.slice(1)) : posix.resolve(folders.project, m.source),
    }));
}
