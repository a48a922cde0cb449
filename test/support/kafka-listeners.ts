/** Kafka's listener settings (KAFKA_LISTENERS, KAFKA_ADVERTISED_LISTENERS) as a container's environment gives them. */

/** A listener's address; an empty host binds every interface. */
export interface ListenerAddress {
  host: string;
  port: number;
}

/** Listener name → address from a `NAME://host:port,...` value; throws naming `setting` and the entry it cannot read. */
export function listenerAddresses(setting: string, value: string): Map<string, ListenerAddress> {
  const result = new Map<string, ListenerAddress>();
  for (const item of value.split(',')) {
    const m = /^([A-Za-z0-9_]+):\/\/(\[[^\]]*\]|[^:/]*):(\d+)$/.exec(item.trim());
    if (!m) throw new Error(`${setting}: cannot read ${item.trim()} (expected NAME://host:port)`);
    const [, name = '', host = '', port = ''] = m;
    if (result.has(name)) throw new Error(`${setting}: listener ${name} is named twice`);
    result.set(name, { host, port: Number(port) });
  }
  return result;
}
