/**
 * `${VAR}` and `${VAR:-default}` references in a config file. They are masked before the YAML
 * parser runs and resolved in the parsed string values afterwards, so a reference may stand
 * unquoted inside `{ }` or `[ ]`, and a variable's content is always a plain string, never YAML.
 */

/** One `${...}` occurrence in the source text. */
export interface EnvReference {
  /** Index of the `$` in the source text. */
  offset: number;
  /** The reference as written, e.g. `${KAFKA_PASSWORD}`. */
  text: string;
  /** The variable's name; undefined when the reference is malformed. */
  name: string | undefined;
  /** The text after `:-`, when given. */
  fallback: string | undefined;
}

/** The source with every reference replaced by a token of the same length. */
export interface MaskedSource {
  text: string;
  references: EnvReference[];
}

const REFERENCE = /\$\{([^}\n]*)\}/g;
const WELL_FORMED = /^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s;

// Tokens are made of private-use characters, which YAML takes as ordinary word characters and
// config files never contain. Two digits in base 4096 number up to 16 million references.
const START = '\uE000';
const FILL = '\uE001';
const DIGIT0 = 0xe100;
const BASE = 4096;
const TOKEN = /\uE000([\uE100-\uF0FF])([\uE100-\uF0FF])\uE001*/g;

function token(index: number, length: number): string {
  const digits = String.fromCharCode(DIGIT0 + Math.floor(index / BASE), DIGIT0 + (index % BASE));
  return (START + digits).padEnd(length, FILL);
}

/** Masks every reference with a same-length token so that YAML positions stay those of the source. */
export function maskReferences(source: string): MaskedSource {
  const references: EnvReference[] = [];
  const text = source.replace(REFERENCE, (whole: string, inner: string, offset: number) => {
    const parts = WELL_FORMED.exec(inner);
    references.push({ offset, text: whole, name: parts?.[1], fallback: parts?.[2] });
    return token(references.length - 1, whole.length);
  });
  return { text, references };
}

/** The outcome of resolving the tokens in one string. */
export interface Resolved {
  value: string;
  /** References that are malformed or name an unset variable without a default. */
  unresolved: EnvReference[];
}

function referenceAt(references: EnvReference[], hi: string, lo: string): EnvReference {
  const ref = references[(hi.charCodeAt(0) - DIGIT0) * BASE + (lo.charCodeAt(0) - DIGIT0)];
  if (!ref) throw new Error('env token without a reference: the masked text was altered');
  return ref;
}

/** Replaces the tokens in a parsed string with the environment's values (shell `:-` rules). */
export function resolveReferences(masked: string, references: EnvReference[], env: NodeJS.ProcessEnv): Resolved {
  const unresolved: EnvReference[] = [];
  const value = masked.replace(TOKEN, (_whole: string, hi: string, lo: string) => {
    const ref = referenceAt(references, hi, lo);
    const set = ref.name === undefined ? undefined : env[ref.name];
    // As in the shell, `:-` also stands in for a variable that is set but empty.
    if (ref.fallback !== undefined && (set === undefined || set === '')) return ref.fallback;
    if (set === undefined) {
      unresolved.push(ref);
      return '';
    }
    return set;
  });
  return { value, unresolved };
}

/** Puts the references back as written, for strings (map keys) that are not substituted. */
export function unmaskReferences(masked: string, references: EnvReference[]): string {
  return masked.replace(TOKEN, (_whole: string, hi: string, lo: string) => referenceAt(references, hi, lo).text);
}

/** The message for a reference that could not be resolved. */
export function describeUnresolved(ref: EnvReference): string {
  return ref.name === undefined
    ? `${ref.text} is not a valid reference; write \${NAME} or \${NAME:-default}`
    : `environment variable ${ref.name} is not set (write \${${ref.name}:-default} to give a default)`;
}
