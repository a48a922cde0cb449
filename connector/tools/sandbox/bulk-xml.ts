/** The XML bodies of the Bulk Profile Update API v2 replies. Pure. */

export type RowStatus = 'pending' | 'success' | 'error';

/** Content-Type of every bulk reply the API itself writes. */
export const XML_CONTENT_TYPE = 'application/xml; charset=utf-8';

/** The batchUpdate answer for an accepted file. */
export function submittedXml(statusUrl: string): string {
  return `<response><success>true</success><batchStatus>${escapeXml(statusUrl)}</batchStatus><message>Batch submitted for processing</message></response>`;
}

/** The answer for a refused file or request: `success` false and what was wrong. */
export function refusedXml(message: string): string {
  return `<response><success>false</success><message>${escapeXml(message)}</message></response>`;
}

/**
 * The batchStatus answer: one `<profile>` per row in file order. Built as parts joined once, so
 * 500,000 rows cost one pass and no quadratic copying.
 */
export function batchStatusXml(batchId: string, ids: readonly string[], statusOf: (row: number) => RowStatus): string {
  const parts: string[] = [`<response><batchId>${escapeXml(batchId)}</batchId>`];
  for (let row = 0; row < ids.length; row++) {
    parts.push(`<profile><id>${escapeXml(ids[row] ?? '')}</id><status>${statusOf(row)}</status></profile>`);
  }
  parts.push('</response>');
  return parts.join('');
}

const SPECIAL = /[&<>]/;
const ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };

/**
 * `text` escaped for element content (these replies have no attributes, so quotes stay as they
 * are); most ids need nothing, and are returned as they are without building a new string.
 */
function escapeXml(text: string): string {
  return SPECIAL.test(text) ? text.replace(/[&<>]/g, (c) => ENTITIES[c] ?? c) : text;
}
