/** Kafka listener settings as the compose check reads them. */
import { describe, expect, it } from 'vitest';
import { listenerAddresses } from './kafka-listeners.js';

describe('listenerAddresses', () => {
  it('maps each listener name to its host and port; an empty host binds every interface', () => {
    const listeners = listenerAddresses('KAFKA_LISTENERS', 'INTERNAL://:9092, HOST://localhost:29092,CONTROLLER://[::1]:9093');
    expect([...listeners]).toEqual([
      ['INTERNAL', { host: '', port: 9092 }],
      ['HOST', { host: 'localhost', port: 29092 }],
      ['CONTROLLER', { host: '[::1]', port: 9093 }],
    ]);
  });

  it('names the setting and the entry it cannot read', () => {
    expect(() => listenerAddresses('KAFKA_ADVERTISED_LISTENERS', 'INTERNAL://kafka:9092,kafka:9093')).toThrow(
      'KAFKA_ADVERTISED_LISTENERS: cannot read kafka:9093 (expected NAME://host:port)',
    );
    expect(() => listenerAddresses('KAFKA_LISTENERS', 'PLAINTEXT://kafka')).toThrow('KAFKA_LISTENERS: cannot read PLAINTEXT://kafka');
    expect(() => listenerAddresses('KAFKA_LISTENERS', 'PLAINTEXT://kafka:9092/x')).toThrow('cannot read');
  });

  it('rejects a listener named twice, which Kafka refuses to start with', () => {
    expect(() => listenerAddresses('KAFKA_LISTENERS', 'A://:1,A://:2')).toThrow('KAFKA_LISTENERS: listener A is named twice');
  });
});
