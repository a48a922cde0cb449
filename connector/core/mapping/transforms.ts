/**
 * The transform catalog. Each transform is compiled once into a step function; a chain of steps
 * runs left to right and stops at the first missing value.
 */
import { UnmappableEventError } from '../errors.js';
import { AvroDate, Decimal } from '../values.js';
import {
  formatDays,
  formatInstant,
  MAX_INSTANT_MS,
  MS_PER_DAY,
  roundDecimal,
  roundDecimalText,
  stringifyValue,
  toDecimalText,
  toJson,
  truncateText,
} from './stringify.js';

/** One transform applied to a present value; returns undefined/null when the result is missing. */
export type Step = (value: unknown) => unknown;

/** A transform as written in YAML: a name, or a one-key object such as `{round: 2}`. */
export type TransformSpec = string | Record<string, unknown>;

/** What transforms need from the platform: hashing is native code, injected so the mapping stays pure. */
export interface TransformPlatform {
  /** Lower-case hex SHA-256 of the UTF-8 text. */
  sha256(text: string): string;
}

function preview(value: unknown): string {
  const text = stringifyValue(value) ?? String(value);
  return text.length > 32 ? `${text.slice(0, 32)}…` : text;
}

function cannot(transform: string, value: unknown, expected: string): UnmappableEventError {
  return new UnmappableEventError(`${transform} expects ${expected}, got ${typeof value} "${preview(value)}"`);
}

/** Epoch milliseconds of a timestamp-like value, or undefined. */
function toEpochMillis(value: unknown): number | undefined {
  let ms: number;
  if (value instanceof Date) ms = value.getTime();
  else if (value instanceof AvroDate) ms = value.days * MS_PER_DAY;
  else if (typeof value === 'number') ms = value;
  else if (typeof value === 'bigint') ms = Number(value);
  else if (typeof value === 'string') ms = Date.parse(value);
  else return undefined;
  return Number.isFinite(ms) && Math.abs(ms) <= MAX_INSTANT_MS ? ms : undefined;
}

function requireInstant(transform: string, value: unknown): number {
  const ms = toEpochMillis(value);
  if (ms === undefined) throw cannot(transform, value, 'a timestamp, date, epoch milliseconds or ISO 8601 text');
  return ms;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : stringifyValue(value);
}

const NAMED: Record<string, Step> = {
  trim: (value) => text(value)?.trim(),
  lowercase: (value) => text(value)?.toLowerCase(),
  uppercase: (value) => text(value)?.toUpperCase(),
  // Compiled with the platform's hash (see compileStep); listed here so that it is a known name.
  sha256: (value) => value,
  iso8601: (value) => (value instanceof AvroDate ? formatDays(value.days) : formatInstant(requireInstant('iso8601', value))),
  epoch_millis: (value) => requireInstant('epoch_millis', value),
  date: (value) => formatDays(value instanceof AvroDate ? value.days : Math.floor(requireInstant('date', value) / MS_PER_DAY)),
  string: (value) => stringifyValue(value),
  json: (value) => toJson(value),
};

/** Names of the transforms that take no argument. */
export const TRANSFORM_NAMES: readonly string[] = Object.keys(NAMED);

function roundStep(decimals: number): Step {
  return (value) => {
    if (value instanceof Decimal) return roundDecimal(value, decimals);
    const decimalText = toDecimalText(value);
    if (decimalText === undefined) throw cannot('round', value, 'a number or decimal');
    return roundDecimalText(decimalText, decimals);
  };
}

function joinStep(separator: string): Step {
  return (value) => {
    if (!Array.isArray(value)) return value;
    const parts: string[] = [];
    for (const item of value) {
      const part = stringifyValue(item);
      if (part !== undefined) parts.push(part);
    }
    return parts.join(separator);
  };
}

function truncateStep(max: number): Step {
  return (value) => {
    const input = text(value);
    return input === undefined ? undefined : truncateText(input, max);
  };
}

function lookupStep(table: Record<string, unknown>): Step {
  const entries = new Map<string, string | undefined>();
  for (const [from, to] of Object.entries(table)) entries.set(from, stringifyValue(to));
  return (value) => {
    const key = text(value);
    return key === undefined ? undefined : entries.get(key);
  };
}

function sha256Step(platform: TransformPlatform): Step {
  return (value) => {
    const input = text(value);
    return input === undefined ? undefined : platform.sha256(input);
  };
}

/** One step from its YAML spec; the spec has passed the mapping JSON Schema. */
function compileStep(spec: TransformSpec, platform: TransformPlatform): Step {
  if (spec === 'sha256') return sha256Step(platform);
  if (typeof spec === 'string') {
    const step = NAMED[spec];
    if (!step) throw new RangeError(`unknown transform ${spec}`);
    return step;
  }
  const [name, argument] = Object.entries(spec)[0] ?? [];
  switch (name) {
    case 'round':
      return roundStep(argument as number);
    case 'join':
      return joinStep(argument as string);
    case 'truncate':
      return truncateStep(argument as number);
    case 'lookup':
      return lookupStep(argument as Record<string, unknown>);
    default:
      throw new RangeError(`unknown transform ${String(name)}`);
  }
}

/** One step per transform of a chain, in order, for callers that run them inline. */
export function compileSteps(specs: readonly TransformSpec[], platform: TransformPlatform): Step[] {
  return specs.map((spec) => compileStep(spec, platform));
}

/** Composes a transform chain into one function; undefined when there are no transforms. */
export function compileTransforms(specs: readonly TransformSpec[], platform: TransformPlatform): Step | undefined {
  return composeSteps(compileSteps(specs, platform));
}

/** Runs `steps` left to right as one function, stopping at the first missing value; undefined for none. */
export function composeSteps(steps: readonly Step[]): Step | undefined {
  if (steps.length === 0) return undefined;
  if (steps.length === 1) return steps[0];
  return (value) => {
    let current = value;
    for (const step of steps) {
      current = step(current);
      if (current === undefined || current === null) return undefined;
    }
    return current;
  };
}
