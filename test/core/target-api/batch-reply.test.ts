import { describe, expect, it } from 'vitest';
import { TargetError } from '../../../connector/core/errors.js';
import { parseStatusReply, parseSubmitReply, refusalMessage } from '../../../connector/core/target-api/batch-reply.js';
import { batchStatusXml, refusedXml, submittedXml } from '../../../connector/tools/sandbox/bulk-xml.js';

/** The TargetError `read` throws, so its flag and message can be checked. */
function failureOf(read: () => unknown): TargetError {
  try {
    read();
  } catch (error) {
    if (error instanceof TargetError) return error;
    throw error;
  }
  throw new Error('expected a TargetError, nothing was thrown');
}

describe('parseSubmitReply', () => {
  it("reads the sandbox's exact replies", () => {
    const url = 'http://127.0.0.1:1/m2/acme/v2/profile/batchStatus?batchId=batch-1&x=<1>';
    expect(parseSubmitReply(submittedXml(url))).toEqual({ success: true, statusUrl: url, message: 'Batch submitted for processing' });
    const message = 'line 2: row has 3 cells, the header has 2 & <more>';
    expect(parseSubmitReply(refusedXml(message))).toEqual({ success: false, message });
  });

  it('reads a reply with a declaration, comments, whitespace, another order, attributes, prefixes, extra elements, entities and CDATA', () => {
    const body = `<?xml version="1.0" encoding="UTF-8"?>
      <!-- generated -->
      <ns:response xmlns:ns="urn:adobe" version='2'>
        <message lang="sv" note="a > b">Batch &quot;7&quot; &lt;submitted&gt; &amp; queued: caf&#233; caf&#xE9; it&apos;s 🎉</message>
        <extra><success>false</success><batchStatus>http://wrong</batchStatus></extra>
        <empty/>
        <ns:batchStatus>
          <![CDATA[https://acme.tt.omtrdc.net/m2/acme/v2/profile/batchStatus?batchId=42&client=acme]]>
        </ns:batchStatus>
        <success type="boolean"> TRUE </success>
      </ns:response>`;
    expect(parseSubmitReply(body)).toEqual({
      success: true,
      statusUrl: 'https://acme.tt.omtrdc.net/m2/acme/v2/profile/batchStatus?batchId=42&client=acme',
      message: 'Batch "7" <submitted> & queued: café café it\'s 🎉',
    });
  });

  it('reads success=false with its message, and without one', () => {
    expect(parseSubmitReply('<response>\n <success>false</success>\n <message>quota &amp; limits</message>\n</response>')).toEqual({
      success: false,
      message: 'quota & limits',
    });
    expect(parseSubmitReply('<response><success>false</success></response>')).toEqual({ success: false, message: '(no message)' });
  });

  it('throws a permanent TargetError quoting the body for anything that is not such a reply', () => {
    for (const body of [
      'Service Unavailable',
      '<html><body><h1>502 Bad Gateway</h1></body></html>',
      '',
      '<response><message>hi</message></response>',
      '<response><success>maybe</success></response>',
      '<responses><success>true</success></responses>',
    ]) {
      const error = failureOf(() => parseSubmitReply(body));
      expect(error.retryable).toBe(false);
      expect(error.message).toContain('not a batchUpdate response');
      expect(error.message).toContain(body.replace(/\s+/g, ' ').trim() || '(empty body)');
    }
  });

  it('throws when Target accepted the file but named no status URL', () => {
    const error = failureOf(() => parseSubmitReply('<response><success>true</success><batchStatus> </batchStatus></response>'));
    expect(error.retryable).toBe(false);
    expect(error.message).toMatch(/no batchStatus URL/);
  });

  it('takes nothing from an element the body ends inside', () => {
    const cut = '<response><success>true</success><batchStatus>http://127.0.0.1:1/m2/acme/v2/profile/batchStatus?batchId=ba';
    expect(failureOf(() => parseSubmitReply(cut)).message).toMatch(/no batchStatus URL/);
  });

  it('shortens a long body in the message', () => {
    const error = failureOf(() => parseSubmitReply(`<p>${'x'.repeat(5000)}</p>`));
    expect(error.message.length).toBeLessThan(300);
  });
});

describe('refusalMessage', () => {
  it("gives Target's message of a refused reply, and nothing for others", () => {
    expect(refusalMessage(refusedXml('unknown batchId "b-9"'))).toBe('unknown batchId "b-9"');
    expect(refusalMessage(submittedXml('http://x/y'))).toBeUndefined();
    expect(refusalMessage('Service Unavailable')).toBeUndefined();
  });
});

describe('parseStatusReply', () => {
  it("reads the sandbox's exact report, ids with XML's special characters included", () => {
    const ids = ['c-1', 'a&b <c>', 'Åsa@example.com'];
    const statuses = ['success', 'error', 'pending'] as const;
    const body = batchStatusXml('batch-7', ids, (row) => statuses[row] ?? 'pending');
    expect(parseStatusReply(body)).toEqual({
      batchId: 'batch-7',
      rows: new Map([
        ['c-1', 'success'],
        ['a&b <c>', 'error'],
        ['Åsa@example.com', 'pending'],
      ]),
      unknown: [],
    });
  });

  it('reads a pretty-printed report with attributes, another order, extra elements and CDATA ids', () => {
    const body = `<?xml version="1.0"?>
      <response>
        <profile index="1">
          <status>SUCCESS</status>
          <id><![CDATA[x<1>]]></id>
          <note>ignored</note>
        </profile>
        <meta><id>not-a-row</id><status>error</status></meta>
        <profile><id>c-2</id><status code="e">error</status></profile>
        <batchId>
          b&#45;9
        </batchId>
      </response>`;
    expect(parseStatusReply(body)).toEqual({
      batchId: 'b-9',
      rows: new Map([
        ['x<1>', 'success'],
        ['c-2', 'error'],
      ]),
      unknown: [],
    });
  });

  it('counts unknown or missing status words as pending and lists each once', () => {
    const body =
      '<response><batchId>b</batchId>' +
      '<profile><id>a</id><status>processing</status></profile>' +
      '<profile><id>b</id><status>processing</status></profile>' +
      '<profile><id>c</id><status>queued</status></profile>' +
      '<profile><id>d</id></profile>' +
      '<profile><status>success</status></profile>' +
      '</response>';
    expect(parseStatusReply(body)).toEqual({
      batchId: 'b',
      rows: new Map([
        ['a', 'pending'],
        ['b', 'pending'],
        ['c', 'pending'],
        ['d', 'pending'],
      ]),
      unknown: ['processing', 'queued', '(no status)'],
    });
  });

  it('reads a report without a batchId or rows', () => {
    expect(parseStatusReply('<response/>')).toEqual({ batchId: undefined, rows: new Map(), unknown: [] });
  });

  it('reads a report of 200,000 rows', () => {
    const ids = Array.from({ length: 200_000 }, (_, i) => `customer-${i}@example.com`);
    const report = parseStatusReply(batchStatusXml('big', ids, (row) => (row % 2 === 0 ? 'success' : 'error')));
    expect(report.rows.size).toBe(200_000);
    expect(report.rows.get('customer-199999@example.com')).toBe('error');
    expect(report.rows.get('customer-0@example.com')).toBe('success');
  });

  it("throws a permanent TargetError with Target's message for a refusal, and quoting the body for garbage", () => {
    const refused = failureOf(() => parseStatusReply(refusedXml('unknown batchId "b-9"')));
    expect(refused.retryable).toBe(false);
    expect(refused.message).toBe('Target refused the batchStatus request: unknown batchId "b-9"');
    for (const body of ['Service Unavailable', '<html><body>oops</body></html>', '']) {
      const error = failureOf(() => parseStatusReply(body));
      expect(error.retryable).toBe(false);
      expect(error.message).toContain('not a batchStatus response');
    }
  });
});
