/**
 * What `run` and `backfill` ask Target before consuming: `check`'s probe. An answer that says the
 * settings are wrong (404, 401, 403) ends the start with `check`'s message, so a wrong client code
 * is never mistaken for an endless outage; no answer, or a failing one, is an outage: it is
 * warned about and waited out by the circuit breaker like any other.
 */
import type { Logger } from 'pino';
import type { Config } from '../../core/config.js';
import { ConfigError } from '../../core/errors.js';
import { misconfigurationFor } from '../../core/target-api/reply.js';
import { askTargetProbe, judgeTargetAnswer, shownEndpoint } from './target-probe.js';

/** As `check`: the probe needs an answer, not a fast one, but a hanging endpoint must not stall the start. */
const MAX_PROBE_MS = 8000;

/** Sends the probe; throws a ConfigError naming the keys to check when Target's answer says the settings are wrong. */
export async function requireTargetEndpoint(config: Config, logger: Logger): Promise<void> {
  const { target } = config;
  const endpoint = shownEndpoint(target);
  const answer = await askTargetProbe(target, Math.min(target.timeout_ms, MAX_PROBE_MS));
  const result = judgeTargetAnswer(answer, endpoint, target.client_code);
  if (result.status === 'passed') return;
  if (answer.answered && misconfigurationFor(answer.status, { url: endpoint, pathKey: 'target.path' })) {
    throw new ConfigError([{ file: config.source_file, field: 'target', message: result.detail }]);
  }
  logger.warn(
    { probe: result.detail },
    'Target did not accept the start-up probe; consuming anyway: an outage is waited out (delivery.outage_budget_ms applies), run `check` if it persists',
  );
}
