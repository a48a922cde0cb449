/** The value types shared by mapping, dispatch and the Target client. */

export type IdentityKind = 'mbox3rdPartyId' | 'mboxPC';

/** Whose profile an update is for. */
export interface ProfileIdentity {
  kind: IdentityKind;
  value: string;
}

/**
 * The door a mapping sends its updates through: `single` (the Single Profile Update API, or bulk
 * while far behind) or `realtime` (the server-side Delivery API, applied within seconds).
 */
export type UpdateRoute = 'single' | 'realtime';

/** One profile's new attribute values; names are without the `profile.` prefix. */
export interface ProfileUpdate {
  identity: ProfileIdentity;
  attributes: Record<string, string>;
  /** Set by mappings with `route: realtime`; absent means `single`. */
  route?: UpdateRoute;
}

/** The route of an update: its mapping's, `single` when it names none. */
export function routeOf(update: ProfileUpdate): UpdateRoute {
  return update.route ?? 'single';
}

/** One HTTP request to Target, fully built (URL encoded, body form-encoded). */
export interface TargetRequest {
  method: 'GET' | 'POST';
  url: string;
  body?: string;
}

/** A stable key for lanes and coalescing: the identity kind and value. */
export function identityKey(identity: ProfileIdentity): string {
  return `${identity.kind}:${identity.value}`;
}
