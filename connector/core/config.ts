/** The connector's configuration after defaults are applied and paths are resolved. */
export interface Config {
  /** Absolute path of the file this config was read from (for messages and relative paths). */
  source_file: string;
  kafka: KafkaConfig;
  schema_registry?: SchemaRegistryConfig;
  target: TargetConfig;
  /** Absolute path, resolved from the config file's folder. */
  mapping_file: string;
  delivery: DeliveryConfig;
  metrics: MetricsConfig;
}

export interface KafkaConfig {
  brokers: string[];
  group_id: string;
  client_id: string;
  from_beginning: boolean;
  ssl: boolean | { ca?: string; cert?: string; key?: string; rejectUnauthorized?: boolean };
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
  session_timeout_ms: number;
}

export interface SchemaRegistryConfig {
  url: string;
  username?: string;
  password?: string;
}

export interface TargetConfig {
  client_code: string;
  /** e.g. https://acme.tt.omtrdc.net; defaults to https://<client_code>.tt.omtrdc.net */
  base_url: string;
  /** Path template; `{client_code}` is replaced. */
  path: string;
  /** Path template of the Bulk Profile Update API v2 batch endpoint. */
  bulk_path: string;
  timeout_ms: number;
  /** What to do with values longer than 256 characters. */
  long_values: 'truncate' | 'reject' | 'allow';
  /** Optional bearer token for the profile read-back API (never logged). */
  token?: string;
  /** Optional bearer token of every Delivery API call, for accounts that require authentication (never logged). */
  auth_token?: string;
  realtime: RealtimeTargetConfig;
}

/** The Delivery API door of the realtime route. */
export interface RealtimeTargetConfig {
  /** Path template; `{client_code}` is replaced. Default /rest/v1/delivery. */
  path: string;
  /** The mbox named in every call: one no activity uses. Default target-profile-sink. */
  mbox: string;
  /** `context.channel`. Default web. */
  channel: 'web' | 'mobile';
}

export interface DeliveryConfig {
  concurrency: number;
  daily_quota: number;
  /** Length of the rolling quota window; 24 h unless a test shortens it. */
  quota_window_ms: number;
  max_attempts: number;
  initial_backoff_ms: number;
  /** Consecutive failures across profiles that open the circuit breaker. */
  breaker_threshold: number;
  /** Longest outage waited out before the process exits non-zero; unbounded when absent. */
  outage_budget_ms?: number;
  max_backoff_ms: number;
  max_pending: number;
  /** Unset means the default for run (DEFAULT_DEAD_LETTER_TOPIC), and no dead letters for Airbyte write. */
  dead_letter_topic?: string;
  commit_interval_ms: number;
  shutdown_timeout_ms: number;
  quota_store: QuotaStoreConfig;
  bulk: BulkConfig;
  realtime: RealtimeDeliveryConfig;
}

/** The realtime route's budget (Delivery API calls are billed server calls). */
export interface RealtimeDeliveryConfig {
  /** Calls per rolling quota window, shared by the fleet; 0 or absent: unlimited. */
  daily_call_budget?: number;
}

/** Where the account's quota is kept: each replica's share (local), or one window in Redis. */
export interface QuotaStoreConfig {
  kind: 'local' | 'redis';
  /** redis only (required there). */
  url?: string;
  key_prefix: string;
  tls: boolean;
  username?: string;
  /** Never logged. */
  password?: string;
}

/** The bulk route (Bulk Profile Update API v2). */
export interface BulkConfig {
  mode: 'off' | 'auto' | 'always';
  enter_lag: number;
  exit_lag: number;
  max_rows: number;
  max_bytes: number;
  linger_ms: number;
  poll_interval_ms: number;
  status_timeout_ms: number;
  max_attempts: number;
  /** Unlimited when absent. */
  daily_row_quota?: number;
  /** Bulk API calls (submits and status polls) per minute, for the whole fleet. */
  calls_per_minute: number;
  max_pending: number;
  remember_profiles: number;
}

export interface MetricsConfig {
  /** 0 disables the HTTP endpoint. */
  port: number;
  host: string;
}

/** The dead-letter topic of `run`, `check` and `replay-dead-letters` when the config names none. */
export const DEFAULT_DEAD_LETTER_TOPIC = 'target-profile-sink.dlq';

/** The dead-letter topic `run` writes to. */
export function deadLetterTopicOf(config: Pick<Config, 'delivery'>): string {
  return config.delivery.dead_letter_topic ?? DEFAULT_DEAD_LETTER_TOPIC;
}
