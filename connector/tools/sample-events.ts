/**
 * Deterministic, realistic events for the three sample schemas (`schemas/*.avsc`). The demo, the
 * delivery tests and the benchmarks all draw their traffic from here, so one seed always yields
 * the same events. Values follow the decoded-values contract and encode with the sample schemas.
 */
import { seededRandom } from '../core/seeded-random.js';
import { AvroDate, Decimal } from '../core/values.js';

/** The topics of the three sample schemas, as examples/mapping.yaml names them. */
export const SAMPLE_TOPICS = {
  crm: 'crm.customer.updated',
  loyalty: 'loyalty.card.swiped',
  transaction: 'transaction.completed',
} as const;

export type SampleTopic = (typeof SAMPLE_TOPICS)[keyof typeof SAMPLE_TOPICS];

/** One event: its topic, its Kafka key (the customer id) and its decoded value. */
export interface SampleEvent {
  topic: SampleTopic;
  key: string;
  value: Record<string, unknown>;
}

export interface SampleEventOptions {
  count: number;
  /** Distinct customers the events are spread over (profiles that get several updates). */
  customers?: number;
  seed?: number;
  /** Topics to draw from; all three by default. */
  topics?: readonly SampleTopic[];
  /** Time of the first event; later events are a few seconds apart. */
  start?: Date;
}

const FIRST_NAMES = ['Anna', 'Zoë', 'José', 'Björn', 'Åsa', 'Li', 'Noah', 'Chloé', 'Mateusz', 'Ingrid', 'Amir', 'Sofía'];
const LAST_NAMES = ['Lindqvist', 'Müller', 'García', 'Nowak', "O'Brien", 'Søndergaard', 'Rossi', 'Dubois', 'Chen', 'Öberg'];
const PLACES = [
  { city: 'Malmö', country: 'SE', postal: '211 20' },
  { city: 'Göteborg', country: 'SE', postal: '411 01' },
  { city: 'København', country: 'DK', postal: '1050' },
  { city: 'Łódź', country: 'PL', postal: '90-001' },
  { city: 'Zürich', country: 'CH', postal: '8001' },
  { city: 'Paris', country: 'FR', postal: '75002' },
  { city: 'São Paulo', country: 'BR', postal: '01310-100' },
  { city: 'Berlin', country: 'DE', postal: '10115' },
];
const STORES = [
  { id: 'S-001', name: 'Malmö & Co', city: 'Malmö', country: 'SE' },
  { id: 'S-002', name: 'Göteborg Centrum', city: 'Göteborg', country: 'SE' },
  { id: 'S-003', name: 'Strøget Flagship', city: 'København', country: 'DK' },
  { id: 'S-004', name: 'Zürich HB', city: 'Zürich', country: 'CH' },
  { id: 'S-005', name: 'Outlet "Nord" 50% off', city: null, country: 'DE' },
];
const PRODUCTS = [
  { sku: 'SKU-1001', name: 'Trail shoe', category: 'shoes', cents: 129_900 },
  { sku: 'SKU-1002', name: 'Leather bag', category: 'bags', cents: 249_500 },
  { sku: 'SKU-1003', name: 'Wool scarf', category: 'accessories', cents: 39_950 },
  { sku: 'SKU-1004', name: 'Rain jacket', category: 'outerwear', cents: 189_000 },
  { sku: 'SKU-1005', name: 'Gift wrap', category: null, cents: 2_500 },
];
const TIERS = ['BRONZE', 'SILVER', 'GOLD', 'PLATINUM'];
const CHANNELS = ['EMAIL', 'SMS', 'POST', 'NONE'];
const CATEGORIES = ['shoes', 'bags', 'accessories', 'outerwear', 'kids', 'home'];
const LANGUAGES = ['sv', 'da', 'de', 'fr', 'pl', 'pt', null];
const EMAIL_DOMAINS = ['example.com', 'mail.example.org', 'exempel.se'];
const DAY_MS = 86_400_000;

type Random = () => number;

function pick<T>(random: Random, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

function int(random: Random, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}

function uuid(random: Random): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16));
  hex[12] = '4';
  hex[16] = (8 + Math.floor(random() * 4)).toString(16);
  const s = hex.join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

interface Customer {
  id: string;
  first: string;
  last: string;
  email: string;
  place: (typeof PLACES)[number];
  birthDays: number;
  card: string;
  program: string;
}

/** The stable facts of one customer, derived from its number alone. */
function customerProfile(n: number): Customer {
  const random = seededRandom(n * 7919 + 17);
  const first = pick(random, FIRST_NAMES);
  const last = pick(random, LAST_NAMES);
  const place = pick(random, PLACES);
  const local = `${first}.${last}`
    .normalize('NFD')
    .replace(/[^A-Za-z.]/g, '')
    .toLowerCase();
  return {
    id: `C-${String(n).padStart(6, '0')}`,
    first,
    last,
    // Some CRMs keep stray case and spaces: the mapping's trim/lowercase transforms handle them.
    email: random() < 0.2 ? ` ${local.toUpperCase()}@${pick(random, EMAIL_DOMAINS)} ` : `${local}@${pick(random, EMAIL_DOMAINS)}`,
    place,
    birthDays: int(random, -7_300, 12_000),
    card: `6${String(int(random, 0, 999_999_999)).padStart(9, '0')}${String(n % 1000).padStart(3, '0')}`,
    program: pick(random, ['STANDARD', 'FAMILY', 'BUSINESS']),
  };
}

function crmEvent(random: Random, c: Customer, at: Date): Record<string, unknown> {
  const roll = random();
  return {
    eventId: uuid(random),
    eventType: roll < 0.15 ? 'CREATED' : roll < 0.93 ? 'UPDATED' : roll < 0.97 ? 'MERGED' : 'DELETED',
    updatedAt: at,
    source: 'crm',
    customer: {
      id: c.id,
      email: random() < 0.05 ? null : c.email,
      firstName: c.first,
      lastName: c.last,
      birthDate: random() < 0.3 ? null : new AvroDate(c.birthDays),
      tier: pick(random, TIERS),
      contact: {
        phone: random() < 0.5 ? null : `+46 40 ${int(random, 100, 999)} ${int(random, 10, 99)} ${int(random, 10, 99)}`,
        mobile: random() < 0.3 ? null : `+46 70 ${int(random, 100, 999)} ${int(random, 1000, 9999)}`,
        preferredChannel: pick(random, CHANNELS),
      },
      address: random() < 0.1 ? null : { street: `Storgatan ${int(random, 1, 120)}`, city: c.place.city, postalCode: c.place.postal, country: c.place.country },
      consent: { email: random() < 0.7, sms: random() < 0.4, personalization: random() < 0.8 },
      lifetimeValue: random() < 0.2 ? null : new Decimal(BigInt(int(random, 0, 5_000_000)), 2),
    },
    preferences: {
      categories: CATEGORIES.filter(() => random() < 0.3),
      language: pick(random, LANGUAGES),
    },
    customFields: random() < 0.5 ? {} : { favouriteStore: pick(random, STORES).name, segment: `seg-${int(random, 1, 12)}` },
  };
}

function loyaltyEvent(random: Random, c: Customer, at: Date): Record<string, unknown> {
  const store = pick(random, STORES);
  return {
    eventId: uuid(random),
    swipedAt: at,
    card: { number: c.card, customerId: c.id, program: c.program },
    store,
    channel: pick(random, ['POS', 'POS', 'POS', 'KIOSK', 'APP']),
    pointsDelta: int(random, -500, 1500),
    pointsBalance: int(random, 0, 250_000),
  };
}

function transactionEvent(random: Random, c: Customer, at: Date): Record<string, unknown> {
  const items = Array.from({ length: int(random, 1, 4) }, () => {
    const p = pick(random, PRODUCTS);
    return { sku: p.sku, name: p.name, category: p.category, quantity: int(random, 1, 3), unitPrice: new Decimal(BigInt(p.cents), 2) };
  });
  const total = items.reduce((sum, item) => sum + item.unitPrice.unscaled * BigInt(item.quantity), 0n);
  const discount = random() < 0.3 ? (total * BigInt(int(random, 5, 20))) / 100n : 0n;
  return {
    transactionId: uuid(random),
    customerId: random() < 0.1 ? null : c.id,
    completedAt: at,
    businessDate: new AvroDate(Math.floor(at.getTime() / DAY_MS)),
    amount: new Decimal(total - discount, 2),
    // Four decimals in the schema: the two-decimal cents get two more digits.
    discount: new Decimal(discount * 100n, 4),
    currency: pick(random, ['SEK', 'SEK', 'DKK', 'EUR', 'CHF']),
    paymentMethod: pick(random, ['CARD', 'CARD', 'CASH', 'GIFT_CARD', 'INVOICE', 'MOBILE']),
    storeId: random() < 0.25 ? null : pick(random, STORES).id,
    lineItems: items,
  };
}

const BUILDERS: Record<SampleTopic, (random: Random, customer: Customer, at: Date) => Record<string, unknown>> = {
  [SAMPLE_TOPICS.crm]: crmEvent,
  [SAMPLE_TOPICS.loyalty]: loyaltyEvent,
  [SAMPLE_TOPICS.transaction]: transactionEvent,
};

/** `count` events spread over `customers` customers; the same options always give the same events. */
export function generateSampleEvents(options: SampleEventOptions): SampleEvent[] {
  const { count, customers = 1000, seed = 1, topics = Object.values(SAMPLE_TOPICS) } = options;
  const random = seededRandom(seed);
  let time = (options.start ?? new Date('2026-01-05T08:00:00.000Z')).getTime();
  const events: SampleEvent[] = [];
  for (let i = 0; i < count; i += 1) {
    const topic = pick(random, topics);
    const customer = customerProfile(int(random, 1, customers));
    time += int(random, 50, 5000);
    events.push({ topic, key: customer.id, value: BUILDERS[topic](random, customer, new Date(time)) });
  }
  return events;
}
