/**
 * The one text form of decoded values, so that the same event always yields the same attribute
 * strings: numbers without exponents, booleans as true/false, decimals exactly, timestamps as
 * ISO 8601, dates as YYYY-MM-DD, bytes as base64, records and arrays as JSON.
 */
import { base64 } from '../base64.js';
import { AvroDate, Decimal } from '../values.js';

const EXPONENT_FORM = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/;
export const MS_PER_DAY = 86_400_000;
/** The largest instant a JavaScript Date can hold, either side of the epoch (ms). */
export const MAX_INSTANT_MS = 8.64e15;
const TWO_DIGITS = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
const THREE_DIGITS = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));

/**
 * YYYY-MM-DD of a day number, by integer arithmetic (H. Hinnant's civil_from_days). Mapping
 * formats a date or timestamp for most events, and this is three times faster than building a
 * Date and calling toISOString. Undefined outside years 0000-9999, where ISO needs a sign.
 */
function civilDate(days: number): string | undefined {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const shiftedMonth = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * shiftedMonth + 2) / 5) + 1;
  const month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  if (year < 0 || year > 9999) return undefined;
  return `${TWO_DIGITS[Math.floor(year / 100)] as string}${TWO_DIGITS[year % 100] as string}-${TWO_DIGITS[month] as string}-${TWO_DIGITS[day] as string}`;
}

/** The days either side of the epoch a Date can hold; an Avro int date can say more. */
const MAX_DATE_DAYS = MAX_INSTANT_MS / MS_PER_DAY;

/**
 * YYYY-MM-DD of an Avro date (days since the epoch); ±YYYYYY-MM-DD outside years 0000-9999, as
 * ISO 8601 says. Undefined beyond what a Date can hold (a corrupt value), as for such a timestamp.
 */
export function formatDays(days: number): string | undefined {
  if (Math.abs(days) > MAX_DATE_DAYS) return undefined;
  return civilDate(days) ?? (new Date(days * MS_PER_DAY).toISOString().split('T')[0] as string);
}

/** ISO 8601 UTC text of epoch milliseconds; same text as Date.prototype.toISOString. */
export function formatInstant(ms: number): string {
  const days = Math.floor(ms / MS_PER_DAY);
  const date = civilDate(days);
  if (date === undefined) return new Date(ms).toISOString();
  let rest = ms - days * MS_PER_DAY;
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = Math.floor(rest / 1000);
  const millis = rest - seconds * 1000;
  return `${date}T${TWO_DIGITS[hours] as string}:${TWO_DIGITS[minutes] as string}:${TWO_DIGITS[seconds] as string}.${THREE_DIGITS[millis] as string}Z`;
}
const DECIMAL_TEXT = /^([+-]?)(\d+)(?:\.(\d+))?$/;

/** Number text without exponent noise (1e-7 → "0.0000001"); undefined for NaN and infinities. */
export function formatNumber(n: number): string | undefined {
  if (!Number.isFinite(n)) return undefined;
  const text = String(n);
  const m = EXPONENT_FORM.exec(text);
  if (!m) return text;
  const [, sign = '', lead = '', rest = '', exponentText = '0'] = m;
  const digits = lead + rest;
  const point = lead.length + Number(exponentText);
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return sign + digits + '0'.repeat(point - digits.length);
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** JSON with the same leaf rules as stringifyValue (bytes as base64, bigint as digits). */
export function toJson(value: unknown): string {
  return JSON.stringify(value, function (this: Record<string, unknown>, key: string, converted: unknown) {
    // `this[key]` is the value before toJSON ran, the only place a Buffer is still bytes.
    const raw = this[key];
    if (raw instanceof Uint8Array) return base64(raw);
    if (typeof converted === 'bigint') return converted.toString();
    return converted;
  });
}

/** The attribute text of a decoded value; undefined when there is none (missing, null, NaN). */
export function stringifyValue(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
      return formatNumber(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return value.toString();
    case 'object':
      if (value === null) return undefined;
      if (value instanceof Date) {
        const ms = value.getTime();
        return Number.isNaN(ms) ? undefined : formatInstant(ms);
      }
      if (value instanceof AvroDate) return formatDays(value.days);
      if (value instanceof Decimal) return value.toString();
      if (value instanceof Uint8Array) return base64(value);
      return toJson(value);
    default:
      return undefined;
  }
}

/** Plain decimal text of a number, Decimal or numeric string; undefined for anything else. */
export function toDecimalText(value: unknown): string | undefined {
  if (typeof value === 'number') return formatNumber(value);
  if (value instanceof Decimal) return value.toString();
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'string' && DECIMAL_TEXT.test(value.trim())) return value.trim();
  return undefined;
}

/** Rounds a Decimal half away from zero to exactly `decimals` places, never through a float. */
export function roundDecimal(value: Decimal, decimals: number): string {
  const drop = value.scale - decimals;
  if (drop <= 0) return new Decimal(value.unscaled * 10n ** BigInt(-drop), decimals).toString();
  const unscaled = Number(value.unscaled);
  // Below 2^53 integer arithmetic on doubles is exact (n % d, then an exact division) and much
  // cheaper than bigint division; beyond it, bigint.
  if (Number.isSafeInteger(unscaled) && drop < 16) {
    const divisor = 10 ** drop;
    const remainder = unscaled % divisor;
    let quotient = (unscaled - remainder) / divisor;
    if (Math.abs(remainder) * 2 >= divisor) quotient += unscaled < 0 ? -1 : 1;
    // Decimal.toString's text, without a bigint: a safe integer prints as plain digits.
    const digits = String(Math.abs(quotient));
    const sign = quotient < 0 ? '-' : '';
    if (decimals === 0) return sign + digits;
    const padded = digits.padStart(decimals + 1, '0');
    return `${sign}${padded.slice(0, -decimals)}.${padded.slice(-decimals)}`;
  }
  const divisor = 10n ** BigInt(drop);
  let quotient = value.unscaled / divisor;
  const remainder = value.unscaled % divisor;
  if ((remainder < 0n ? -remainder : remainder) * 2n >= divisor) quotient += value.unscaled < 0n ? -1n : 1n;
  return new Decimal(quotient, decimals).toString();
}

/** Rounds decimal text half away from zero to exactly `decimals` places, without floats. */
export function roundDecimalText(text: string, decimals: number): string {
  const m = DECIMAL_TEXT.exec(text);
  if (!m) throw new RangeError(`not a decimal: ${text}`);
  const [, sign = '', whole = '', fraction = ''] = m;
  let unscaled = BigInt(whole + fraction.slice(0, decimals).padEnd(decimals, '0'));
  if (fraction.length > decimals && (fraction[decimals] as string) >= '5') unscaled += 1n;
  const digits = unscaled.toString().padStart(decimals + 1, '0');
  const body = decimals === 0 ? digits : `${digits.slice(0, -decimals)}.${digits.slice(-decimals)}`;
  return sign === '-' && unscaled !== 0n ? `-${body}` : body;
}

/** The first `max` characters (code points, so no surrogate pair is cut in half). */
export function truncateText(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = 0;
  for (let count = 0; count < max && end < text.length; count += 1) {
    const code = text.charCodeAt(end);
    end += code >= 0xd800 && code <= 0xdbff && end + 1 < text.length ? 2 : 1;
  }
  return text.slice(0, end);
}

/** Length in code points, the unit of Target's character limits. */
export function textLength(text: string): number {
  let count = 0;
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) i += 1;
    count += 1;
  }
  return count;
}
