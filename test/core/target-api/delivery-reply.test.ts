import { describe, expect, it } from 'vitest';
import { classifyDeliveryReply, DELIVERY_PATH_KEY } from '../../../connector/core/target-api/delivery-reply.js';

/** Any time: a Retry-After in seconds does not depend on it. */
const NOW = 0;
const door = { url: 'https://user:pw@acme.tt.omtrdc.net/rest/v1/delivery?client=acme&sessionId=tps-1', pathKey: DELIVERY_PATH_KEY };
const OK = '{"status":200,"requestId":"r-1","client":"acme","id":{"thirdPartyId":"C"},"edgeHost":"mboxedge1.tt.omtrdc.net"}';

describe('classifyDeliveryReply', () => {
  it('accepts 2xx with a JSON object body, refuses 2xx without one for good', () => {
    expect(classifyDeliveryReply(200, undefined, OK, NOW)).toBeUndefined();
    expect(classifyDeliveryReply(200, undefined, `  ${OK}\n`, NOW)).toBeUndefined();
    expect(classifyDeliveryReply(200, undefined, 'trueRequest successfully submitted', NOW)).toMatchObject({ retryable: false, status: 200 });
    expect(classifyDeliveryReply(204, undefined, '', NOW)).toMatchObject({ retryable: false });
    expect(classifyDeliveryReply(200, undefined, '[1]', NOW)).toMatchObject({ retryable: false });
  });

  it('makes a 400 permanent, with the reply message', () => {
    const error = classifyDeliveryReply(400, undefined, '{"status":400,"message":"Mbox name must not be blank"}', NOW);
    expect(error).toMatchObject({ retryable: false, status: 400, code: 'TARGET_REJECTED' });
    expect(error?.message).toBe("Target's Delivery API answered 400: Mbox name must not be blank");
    expect(classifyDeliveryReply(400, undefined, 'plain text', NOW)?.message).toContain('plain text');
  });

  it('retries 5xx, 408, 420 and 429, honouring Retry-After', () => {
    for (const status of [500, 502, 503, 408, 420, 429]) {
      expect(classifyDeliveryReply(status, undefined, '{"message":"busy"}', NOW)).toMatchObject({ retryable: true, status });
    }
    expect(classifyDeliveryReply(429, '7', '', NOW)?.retryAfterMs).toBe(7000);
    expect(classifyDeliveryReply(420, '2', '', NOW)?.retryAfterMs).toBe(2000);
    expect(classifyDeliveryReply(400, '7', '', NOW)?.retryAfterMs).toBeUndefined();
  });

  it('names the settings to check for 404, 401 and 403, without secrets', () => {
    expect(classifyDeliveryReply(404, undefined, '', 0, door)?.misconfiguration).toEqual({
      status: 404,
      url: 'https://acme.tt.omtrdc.net/rest/v1/delivery',
      reason: 'the Delivery API path does not exist',
      keys: ['target.client_code', 'target.realtime.path', 'target.base_url'],
    });
    for (const status of [401, 403]) {
      expect(classifyDeliveryReply(status, undefined, '', 0, door)?.misconfiguration).toMatchObject({
        status,
        keys: ['target.auth_token', 'target.client_code'],
      });
    }
    expect(classifyDeliveryReply(400, undefined, '', 0, door)?.misconfiguration).toBeUndefined();
    expect(classifyDeliveryReply(404, undefined, '', NOW)?.misconfiguration).toBeUndefined();
  });
});
