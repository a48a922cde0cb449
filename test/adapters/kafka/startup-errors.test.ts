/** kafkajs' start-up failures translated into one line in the operator's terms, per error class. */
import {
  KafkaJSConnectionError,
  KafkaJSError,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  KafkaJSSASLAuthenticationError,
} from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { kafkaStartupError, MissingTopicsError, requireTopics, type KafkaStartupContext } from '../../../connector/adapters/kafka/startup-errors.js';
import { ConnectorError } from '../../../connector/core/errors.js';

const context: KafkaStartupContext = { brokers: ['kafka-1:9093', 'kafka-2:9093'], topics: ['crm.events', 'pos.events'], ssl: false };
const withSasl: KafkaStartupContext = { ...context, ssl: true, sasl: { mechanism: 'scram-sha-512', username: 'connector' } };

/** kafkajs' own construction of its errors: the typings lag behind the runtime signatures. */
const connectionError = (message: string, code: string) =>
  new (KafkaJSConnectionError as unknown as new (m: string, o: object) => Error)(message, { broker: 'kafka-1:9093', code });
const retriesExceeded = (cause: Error, retryCount: number) =>
  new (KafkaJSNumberOfRetriesExceeded as unknown as new (e: Error, o: object) => Error)(cause, { retryCount, retryTime: 4860 });
const protocolError = (message: string, type: string, code: number, retriable: boolean) =>
  new (KafkaJSProtocolError as unknown as new (e: object) => Error)({ message, type, code, retriable });

describe('kafkaStartupError', () => {
  it('unreachable brokers: the addresses, the reason once, how often it was tried; retryable (exit 1)', () => {
    const err = kafkaStartupError(retriesExceeded(connectionError('Connection error: connect ECONNREFUSED 10.0.0.1:9093', 'ECONNREFUSED'), 5), context);
    expect(err.message).toBe(
      'cannot reach Kafka at kafka-1:9093, kafka-2:9093: Connection error: connect ECONNREFUSED 10.0.0.1:9093; gave up after 6 attempts; check kafka.brokers and that the brokers run',
    );
    expect(err).toMatchObject({ code: 'KAFKA_UNAVAILABLE', retryable: true });
    expect(err.message).not.toContain('\n');
  });

  it('a SASL refusal names the user and mechanism and the brokers, never the password; not retryable (exit 2)', () => {
    const refusal = new (KafkaJSSASLAuthenticationError as unknown as new (m: string) => Error)(
      'SASL SCRAM SHA512 authentication failed: Authentication failed',
    );
    const err = kafkaStartupError(refusal, withSasl);
    expect(err.message).toBe(
      'Kafka at kafka-1:9093, kafka-2:9093 refused user connector (SASL SCRAM-SHA-512): SASL SCRAM SHA512 authentication failed: Authentication failed; ' +
        'check kafka.sasl (mechanism, username, password) and that the listener takes SASL',
    );
    expect(err).toMatchObject({ code: 'KAFKA_REFUSED', retryable: false });
  });

  it('a SASL refusal wrapped as the cause of a non-retriable error, and a listener without SASL (ILLEGAL_SASL_STATE), read the same', () => {
    const wrapped = new (KafkaJSNonRetriableError as unknown as new (m: string, o: object) => Error)('nope', {
      cause: new (KafkaJSSASLAuthenticationError as unknown as new (m: string) => Error)('bad login'),
    });
    expect(kafkaStartupError(wrapped, withSasl).message).toMatch(/^Kafka at .* refused user connector \(SASL SCRAM-SHA-512\): bad login/);
    const plainListener = protocolError('Request is not valid given the current SASL state', 'ILLEGAL_SASL_STATE', 34, false);
    expect(kafkaStartupError(plainListener, withSasl)).toMatchObject({ code: 'KAFKA_REFUSED', retryable: false });
  });

  it('a TLS failure says to check kafka.ssl', () => {
    const cert = retriesExceeded(connectionError('Connection error: self-signed certificate in certificate chain', 'SELF_SIGNED_CERT_IN_CHAIN'), 5);
    const err = kafkaStartupError(cert, withSasl);
    expect(err.message).toMatch(
      /^TLS with Kafka at kafka-1:9093, kafka-2:9093 failed: Connection error: self-signed certificate in certificate chain; check kafka\.ssl/,
    );
    expect(err).toMatchObject({ code: 'KAFKA_REFUSED', retryable: false });
    const plain = connectionError('Connection error: Client network socket disconnected before secure TLS connection was established', 'ECONNRESET');
    expect(kafkaStartupError(plain, withSasl).message).toMatch(/^TLS with Kafka/);
  });

  it("kafkajs' unnamed UNKNOWN_TOPIC_OR_PARTITION becomes the missing topics, named, with how to create them; not retryable", () => {
    const err = kafkaStartupError(protocolError('This server does not host this topic-partition', 'UNKNOWN_TOPIC_OR_PARTITION', 3, true), context);
    expect(err).toBeInstanceOf(MissingTopicsError);
    expect(err.message).toContain('crm.events, pos.events');
    expect(err.message).toContain('bash scripts/kafka.sh topics --create --topic crm.events');
    expect(err.retryable).toBe(false);
  });

  it('anything else keeps its kafkajs message and retriable flag, and a ConnectorError passes through', () => {
    expect(kafkaStartupError(new KafkaJSError('odd', { retriable: false }), context)).toMatchObject({
      message: 'Kafka at kafka-1:9093, kafka-2:9093 failed at start-up: odd',
      retryable: false,
    });
    const own = new ConnectorError('CONFIG_INVALID', 'mine', false);
    expect(kafkaStartupError(own, context)).toBe(own);
  });
});

describe('requireTopics', () => {
  it('names every missing topic, and only those', async () => {
    const admin = { listTopics: async () => ['crm.events', 'other'] };
    await expect(requireTopics(admin, ['crm.events'], context.brokers)).resolves.toBeUndefined();
    const err = await requireTopics(admin, ['crm.events', 'pos.events', 'web.events'], context.brokers).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MissingTopicsError);
    expect((err as MissingTopicsError).topics).toEqual(['pos.events', 'web.events']);
    expect((err as Error).message).toMatch(/^mapped topic\(s\) pos\.events, web\.events do not exist on kafka-1:9093, kafka-2:9093/);
  });
});
