/** Reads profiles back from Target's profile API (here: the sandbox), as a user would check a delivery. */
import { DemoError } from './errors.js';

/** One profile as the read-back API returned it: attribute name → value. */
export interface ShownProfile {
  id: string;
  attributes: Record<string, string>;
}

interface ReadBackBody {
  profileAttributes?: Record<string, { value?: unknown }>;
}

/**
 * Reads the first `count` existing profiles among `candidates` by mbox3rdPartyId. A 404 skips the
 * candidate: every event of that customer may have been filtered, and Target creates no profile then.
 */
export async function readBackProfiles(baseUrl: string, clientCode: string, candidates: readonly string[], count: number): Promise<ShownProfile[]> {
  const shown: ShownProfile[] = [];
  for (const id of candidates) {
    if (shown.length === count) break;
    const url = `${baseUrl}/rest/v1/profiles/thirdPartyId/${encodeURIComponent(id)}?client=${encodeURIComponent(clientCode)}`;
    const response = await fetch(url);
    if (response.status === 404) continue;
    if (!response.ok) throw new DemoError(`reading profile ${id} back answered HTTP ${response.status}: ${await response.text()}`);
    const body = (await response.json()) as ReadBackBody;
    const attributes = Object.fromEntries(Object.entries(body.profileAttributes ?? {}).map(([name, attribute]) => [name, String(attribute.value)]));
    shown.push({ id, attributes });
  }
  return shown;
}
