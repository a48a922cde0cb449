/**
 * The sandbox's profiles on disk (`simulate-target --state-file F`), so that restarting it — the
 * natural way to try an outage — keeps them. Read once at start; written whole, to a temporary
 * file renamed over F (a crash mid-write never leaves half a file), shortly after changes and on
 * close.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import type { Logger } from 'pino';
import type { ProfileIdentity } from '../../core/profile.js';
import type { ProfileEntry, StoredAttribute } from './profile-store.js';

/** The file's content: `{"version": 1, "profiles": [{"mbox3rdPartyId": "c-1", "attributes": {"tier": {"value": "GOLD", "modifiedAt": "2024-…Z"}}}]}`. */
interface StateFileJson {
  version: 1;
  profiles: Array<{ mbox3rdPartyId?: string; mboxPC?: string; attributes: Record<string, { value: string; modifiedAt: string }> }>;
}

/** Writes coalesce for this long, so a burst of updates costs one write. */
const DEBOUNCE_MS = 200;

/** The profiles kept in `path`, or none when the file does not exist yet; throws when it is not a state file. */
export async function readStateFile(path: string): Promise<ProfileEntry[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new Error(`cannot read the state file ${path}: ${(err as Error).message}`, { cause: err });
  }
  try {
    return parseState(JSON.parse(text) as unknown);
  } catch (err) {
    throw new Error(`${path} is not a sandbox state file (${(err as Error).message}); move it away or name another --state-file`, { cause: err });
  }
}

function parseState(json: unknown): ProfileEntry[] {
  const state = json as Partial<StateFileJson> | null;
  if (state?.version !== 1 || !Array.isArray(state.profiles)) throw new Error('expected {"version": 1, "profiles": [...]}');
  return state.profiles.map((entry, i) => {
    const identity: ProfileIdentity | undefined =
      typeof entry.mbox3rdPartyId === 'string'
        ? { kind: 'mbox3rdPartyId', value: entry.mbox3rdPartyId }
        : typeof entry.mboxPC === 'string'
          ? { kind: 'mboxPC', value: entry.mboxPC }
          : undefined;
    if (!identity || typeof entry.attributes !== 'object') throw new Error(`profile ${i} needs mbox3rdPartyId or mboxPC, and attributes`);
    const attributes = new Map<string, StoredAttribute>(
      Object.entries(entry.attributes).map(([name, a]) => {
        const modifiedAt = Date.parse(a.modifiedAt);
        if (typeof a.value !== 'string' || Number.isNaN(modifiedAt)) throw new Error(`profile ${i}, attribute ${name}: expected {"value", "modifiedAt"}`);
        return [name, { value: a.value, modifiedAt }];
      }),
    );
    return { identity, attributes };
  });
}

function stateJson(entries: readonly ProfileEntry[]): StateFileJson {
  return {
    version: 1,
    profiles: entries.map(({ identity, attributes }) => ({
      [identity.kind]: identity.value,
      attributes: Object.fromEntries([...attributes].map(([name, a]) => [name, { value: a.value, modifiedAt: new Date(a.modifiedAt).toISOString() }])),
    })),
  };
}

/** Keeps `path` following the profiles `snapshot` returns: `changed()` after each change, `flush()` on close. */
export class StateFileWriter {
  private timer: NodeJS.Timeout | undefined;
  /** The write in progress; writes never overlap, so an older snapshot cannot land last. */
  private writing: Promise<void> = Promise.resolve();
  private readonly temp: string;

  constructor(
    private readonly path: string,
    private readonly snapshot: () => ProfileEntry[],
    private readonly log?: Logger,
  ) {
    this.temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  }

  /** Schedules a write unless one is scheduled already. */
  changed(): void {
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.write().catch((err: unknown) => this.log?.error({ err, path: this.path }, 'cannot write the state file'));
    }, DEBOUNCE_MS);
  }

  /** Writes the current profiles now (a scheduled write is folded in); resolves once they are on disk. */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.write();
  }

  private write(): Promise<void> {
    this.writing = this.writing
      .catch(() => {})
      .then(async () => {
        await writeFile(this.temp, `${JSON.stringify(stateJson(this.snapshot()))}\n`);
        await rename(this.temp, this.path);
      });
    return this.writing;
  }
}
