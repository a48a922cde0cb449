/**
 * A delivery that sends nothing, for `preview` and the mapping tests: it builds each update's
 * requests by its door's rules (single updates, Delivery API calls for `route: realtime`), records
 * them, and settles at once — an update that cannot be built fails as the lanes would fail it.
 */
import type { Config } from '../../core/config.js';
import type { Settlement } from '../../core/delivery/route.js';
import type { UpdateDelivery } from '../../core/pipeline/pipeline.js';
import type { ProfileUpdate, TargetRequest } from '../../core/profile.js';
import { fitsAlone } from '../../core/target-api/batch-file.js';
import type { DeliveryRequest, DeliveryRequestBuilder } from '../../core/target-api/delivery-request.js';
import type { RequestBuilder } from '../../core/target-api/request-builder.js';
import { deliveryRequestBuilderFor, requestBuilderFor } from './delivery.js';

/** The part of the `target` config the builders need. */
export type RecordedTarget = Pick<Config['target'], 'base_url' | 'path' | 'client_code' | 'realtime'>;

/**
 * Records what each update would become. With `rows`, thirdPartyId updates of the single door go
 * to bulk rows instead, merged per profile in input order as the lanes would merge them; realtime
 * updates become Delivery API calls whatever `rows`.
 */
export class RecordingDelivery implements UpdateDelivery {
  readonly blocked = false;
  /** The updates built without failure, in order. */
  readonly updates: ProfileUpdate[] = [];
  /** The requests they became (bulk rows aside). */
  readonly requests: Array<TargetRequest | DeliveryRequest> = [];
  private readonly single: RequestBuilder;
  private realtime: DeliveryRequestBuilder | undefined;

  constructor(
    private readonly target: RecordedTarget,
    private readonly rows?: Map<string, Record<string, string>>,
  ) {
    this.single = requestBuilderFor(target);
  }

  /** Builds, records and settles one update. */
  submit(update: ProfileUpdate, settlement: Settlement): void {
    try {
      const { identity, attributes } = update;
      if (update.route === 'realtime') {
        // Built only when a mapping routes there: most configs never need the Delivery builder.
        this.realtime ??= deliveryRequestBuilderFor(this.target);
        this.requests.push(...this.realtime.build(update));
      } else if (this.rows && identity.kind === 'mbox3rdPartyId' && fitsAlone({ id: identity.value, attributes })) {
        this.rows.set(identity.value, { ...this.rows.get(identity.value), ...attributes });
      } else {
        this.requests.push(...this.single.build(update));
      }
      this.updates.push(update);
      settlement.settle({ status: 'delivered' });
    } catch (error) {
      // The same refusal the lanes report: an update that cannot be sent fails without attempts.
      settlement.settle({ status: 'failed', error, attempts: 0 });
    }
  }

  /** Forgets what was recorded, for the next event. */
  clear(): void {
    this.updates.length = 0;
    this.requests.length = 0;
  }

  /** Never blocked: nothing is sent. */
  onBlockedChange(): void {}
}
