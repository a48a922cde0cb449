/** The sandbox's visitor profiles: attribute values with the time each was last written. */
import { identityKey, type ProfileIdentity } from '../../core/profile.js';

export interface StoredAttribute {
  value: string;
  /** Epoch milliseconds of the write that set `value`. */
  modifiedAt: number;
}

export type StoredProfile = ReadonlyMap<string, StoredAttribute>;

/** Profiles keyed by identity kind and value; mbox3rdPartyId and mboxPC are separate namespaces. */
export class ProfileStore {
  private readonly profiles = new Map<string, Map<string, StoredAttribute>>();

  /** Creates the profile if needed and writes `attributes` into it. */
  seed(identity: ProfileIdentity, attributes: Record<string, string>, now: number): void {
    const key = identityKey(identity);
    let profile = this.profiles.get(key);
    if (!profile) {
      profile = new Map();
      this.profiles.set(key, profile);
    }
    write(profile, attributes, now);
  }

  /** Writes `attributes` if the profile exists (or `createMissing`); returns whether it did. */
  apply(identity: ProfileIdentity, attributes: Record<string, string>, now: number, createMissing: boolean): boolean {
    const profile = this.profiles.get(identityKey(identity));
    if (profile) write(profile, attributes, now);
    // An update that carries nothing creates nothing (the check probe sends one).
    else if (createMissing && Object.keys(attributes).length > 0) this.seed(identity, attributes, now);
    else return false;
    return true;
  }

  /** Writes `values[i]` as attribute `names[i]`, creating the profile if needed (the bulk path: no object per row). */
  upsert(identity: ProfileIdentity, names: readonly string[], values: readonly string[], now: number): void {
    const key = identityKey(identity);
    let profile = this.profiles.get(key);
    if (!profile) {
      profile = new Map();
      this.profiles.set(key, profile);
    }
    for (let i = 0; i < names.length; i++) profile.set(names[i] ?? '', { value: values[i] ?? '', modifiedAt: now });
  }

  /** Deletes the named attributes from the profile, if it exists. */
  remove(identity: ProfileIdentity, names: Iterable<string>): void {
    const profile = this.profiles.get(identityKey(identity));
    if (profile) for (const name of names) profile.delete(name);
  }

  /** The profile, or undefined when it does not exist. */
  get(identity: ProfileIdentity): StoredProfile | undefined {
    return this.profiles.get(identityKey(identity));
  }

  /** Number of profiles. */
  get size(): number {
    return this.profiles.size;
  }

  /** Deletes every profile. */
  clear(): void {
    this.profiles.clear();
  }
}

function write(profile: Map<string, StoredAttribute>, attributes: Record<string, string>, now: number): void {
  for (const [name, value] of Object.entries(attributes)) profile.set(name, { value, modifiedAt: now });
}
