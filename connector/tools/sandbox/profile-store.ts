/** The sandbox's visitor profiles: attribute values with the time each was last written. */
import { identityKey, type ProfileIdentity } from '../../core/profile.js';

export interface StoredAttribute {
  value: string;
  /** Epoch milliseconds of the write that set `value`. */
  modifiedAt: number;
}

export type StoredProfile = ReadonlyMap<string, StoredAttribute>;

/** One stored profile with its identity, as a state file keeps it. */
export interface ProfileEntry {
  identity: ProfileIdentity;
  attributes: StoredProfile;
}

/** Profiles keyed by identity kind and value; mbox3rdPartyId and mboxPC are separate namespaces. */
export class ProfileStore {
  private readonly profiles = new Map<string, { identity: ProfileIdentity; attributes: Map<string, StoredAttribute> }>();

  /** `onChange` is called after every write, so that a state file can follow. */
  constructor(private readonly onChange: () => void = () => {}) {}

  /** Creates the profile if needed and writes `attributes` into it. */
  seed(identity: ProfileIdentity, attributes: Record<string, string>, now: number): void {
    write(this.profileOf(identity), attributes, now);
    this.onChange();
  }

  /** Writes `attributes` if the profile exists (or `createMissing`); returns whether it did. */
  apply(identity: ProfileIdentity, attributes: Record<string, string>, now: number, createMissing: boolean): boolean {
    const profile = this.profiles.get(identityKey(identity));
    if (profile) write(profile.attributes, attributes, now);
    // An update that carries nothing creates nothing (the check probe sends one).
    else if (createMissing && Object.keys(attributes).length > 0) write(this.profileOf(identity), attributes, now);
    else return false;
    this.onChange();
    return true;
  }

  /** Writes `values[i]` as attribute `names[i]`, creating the profile if needed (the bulk path: no object per row). */
  upsert(identity: ProfileIdentity, names: readonly string[], values: readonly string[], now: number): void {
    const profile = this.profileOf(identity);
    for (let i = 0; i < names.length; i++) profile.set(names[i] ?? '', { value: values[i] ?? '', modifiedAt: now });
    this.onChange();
  }

  /** Deletes the named attributes from the profile, if it exists. */
  remove(identity: ProfileIdentity, names: Iterable<string>): void {
    const profile = this.profiles.get(identityKey(identity));
    if (!profile) return;
    for (const name of names) profile.attributes.delete(name);
    this.onChange();
  }

  /** The profile, or undefined when it does not exist. */
  get(identity: ProfileIdentity): StoredProfile | undefined {
    return this.profiles.get(identityKey(identity))?.attributes;
  }

  /** Every profile with its identity, in creation order. */
  entries(): ProfileEntry[] {
    return [...this.profiles.values()];
  }

  /** Replaces every profile with `entries` (a state file read at start); not a change to report. */
  restore(entries: Iterable<ProfileEntry>): void {
    this.profiles.clear();
    for (const { identity, attributes } of entries) this.profiles.set(identityKey(identity), { identity, attributes: new Map(attributes) });
  }

  /** Number of profiles. */
  get size(): number {
    return this.profiles.size;
  }

  /** Deletes every profile. */
  clear(): void {
    this.profiles.clear();
    this.onChange();
  }

  /** The attributes of the profile, created empty when it does not exist. */
  private profileOf(identity: ProfileIdentity): Map<string, StoredAttribute> {
    const key = identityKey(identity);
    let profile = this.profiles.get(key);
    if (!profile) {
      profile = { identity, attributes: new Map() };
      this.profiles.set(key, profile);
    }
    return profile.attributes;
  }
}

function write(profile: Map<string, StoredAttribute>, attributes: Record<string, string>, now: number): void {
  for (const [name, value] of Object.entries(attributes)) profile.set(name, { value, modifiedAt: now });
}
