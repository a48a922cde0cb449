/**
 * Replay is never stale (issue 9, item 2): a dead letter replayed after a later event of the same
 * profile was delivered must not bring back the attributes that later event set. Real broker,
 * the Target sandbox, the connector itself delivering before and after the replay.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runReplayDeadLetters } from '../../../connector/apps/replay/replay-command.js';
import { loadConfig } from '../../../connector/adapters/config/load.js';
import { replayDeadLetters, replayGroupId, type ReplaySummary } from '../../../connector/apps/replay/replay.js';
import { REPLAY_OMIT_HEADER } from '../../../connector/core/pipeline/superseded.js';
import { createLogger } from '../../../connector/observe/logger.js';
import type { Sandbox } from '../../../connector/tools/sandbox/server.js';
import { committedOffsets, TestResources } from '../../support/delivery-harness.js';
import { groupsStartingWith, ReplayWorkspace, type CrmAttribute, type CrmFacts } from '../../support/replay-helpers.js';

const logger = createLogger({ level: (process.env.TEST_LOG_LEVEL ?? 'silent') as 'silent' });
const ALL: CrmAttribute[] = ['tier', 'lastUpdated', 'email', 'city'];
const OLDER = new Date('2026-01-05T08:00:00.000Z');
const NEWER = new Date('2026-01-06T09:30:00.000Z');

describe('replay-dead-letters leaves out what later events set', () => {
  const resources = new TestResources();
  let target: Sandbox;
  let workspace: ReplayWorkspace | undefined;

  beforeAll(async () => {
    target = await resources.sandbox();
  });

  afterEach(async () => {
    await workspace?.remove();
    workspace = undefined;
  });

  afterAll(async () => {
    await resources.closeAll();
  });

  /** A workspace mapping `attributes`, removed after the test. */
  async function create(attributes: CrmAttribute[]): Promise<ReplayWorkspace> {
    workspace = await ReplayWorkspace.create(target.url, attributes);
    return workspace;
  }

  /**
   * `letter` was dead-lettered from the source topic (the connector committed past it), then
   * `later` events were delivered; returns the letter's offset.
   */
  async function deadLetterThenDeliver(ws: ReplayWorkspace, letter: CrmFacts, ...later: CrmFacts[]): Promise<number> {
    const [offset] = await ws.produce(letter);
    await ws.writeDeadLetter(letter, offset as number);
    await ws.commitConnector((offset as number) + 1);
    await ws.produce(...later);
    await ws.deliver();
    return offset as number;
  }

  async function replay(ws: ReplayWorkspace, ...args: string[]): Promise<ReplaySummary> {
    let out = '';
    const options = {
      config: ws.configPath,
      dryRun: args.includes('--dry-run'),
      includeSuperseded: args.includes('--include-superseded'),
      logLevel: process.env.TEST_LOG_LEVEL ?? 'silent',
    };
    expect(await runReplayDeadLetters(options, (text) => (out += text))).toBe(0);
    return JSON.parse(out) as ReplaySummary;
  }

  function summary(counts: Partial<ReplaySummary>): ReplaySummary {
    return { replayed: 0, trimmed: 0, superseded: 0, skipped: 0, unmatched: 0, byTopic: {}, ...counts };
  }

  it('BRONZE dead-lettered, PLATINUM delivered: after the replay the profile stays PLATINUM with the newer date', async () => {
    const ws = await create(ALL);
    const bronze: CrmFacts = { id: 'C-bronze', tier: 'BRONZE', updatedAt: OLDER, email: 'anna@example.com', city: 'Malmö' };
    const platinum: CrmFacts = { id: 'C-bronze', tier: 'PLATINUM', updatedAt: NEWER };
    await deadLetterThenDeliver(ws, bronze, platinum);
    expect(target.profile('mbox3rdPartyId', 'C-bronze')).toEqual({ tier: 'platinum', lastUpdated: NEWER.toISOString() });

    expect(await replay(ws)).toEqual(summary({ replayed: 1, trimmed: 1, byTopic: { [ws.source]: 1 } }));
    // The copy is the dead event byte for byte; what must not be applied travels beside it.
    const copy = (await ws.sourceRecords()).at(-1);
    expect(copy?.value).toEqual(ws.encode(bronze));
    expect(copy?.headers?.[REPLAY_OMIT_HEADER]?.toString()).toBe('{"mbox3rdPartyId:C-bronze":["lastUpdated","tier"]}');

    await ws.deliver();
    expect(target.profile('mbox3rdPartyId', 'C-bronze')).toEqual({
      tier: 'platinum',
      lastUpdated: NEWER.toISOString(),
      email: 'anna@example.com',
      city: 'Malmö',
    });
  });

  it('a later event that set only some attributes: only those are left out, the others arrive', async () => {
    const ws = await create(['tier', 'email', 'city']);
    const letter: CrmFacts = { id: 'C-partial', tier: 'BRONZE', updatedAt: OLDER, email: 'bo@example.com', city: 'Lund' };
    await deadLetterThenDeliver(
      ws,
      letter,
      { id: 'C-partial', tier: 'GOLD', updatedAt: NEWER },
      { id: 'C-other', tier: 'SILVER', updatedAt: NEWER, email: 'x@example.com' },
    );
    expect(target.profile('mbox3rdPartyId', 'C-partial')).toEqual({ tier: 'gold' });

    expect(await replay(ws)).toEqual(summary({ replayed: 1, trimmed: 1, byTopic: { [ws.source]: 1 } }));
    await ws.deliver();
    expect(target.profile('mbox3rdPartyId', 'C-partial')).toEqual({ tier: 'gold', email: 'bo@example.com', city: 'Lund' });
    expect(target.profile('mbox3rdPartyId', 'C-other')).toEqual({ tier: 'silver', email: 'x@example.com' });
  });

  it('--include-superseded replays the letter whole: the old tier and date come back (the behaviour before trimming)', async () => {
    const ws = await create(ALL);
    const bronze: CrmFacts = { id: 'C-whole', tier: 'BRONZE', updatedAt: OLDER, email: 'cy@example.com' };
    await deadLetterThenDeliver(ws, bronze, { id: 'C-whole', tier: 'PLATINUM', updatedAt: NEWER });

    expect(await replay(ws, '--include-superseded')).toEqual(summary({ replayed: 1, byTopic: { [ws.source]: 1 } }));
    expect((await ws.sourceRecords()).at(-1)?.headers?.[REPLAY_OMIT_HEADER]).toBeUndefined();
    await ws.deliver();
    expect(target.profile('mbox3rdPartyId', 'C-whole')).toEqual({ tier: 'bronze', lastUpdated: OLDER.toISOString(), email: 'cy@example.com' });
  });

  it('a letter every attribute of which later events set is skipped and counted; nothing is produced for it', async () => {
    const ws = await create(ALL);
    const letter: CrmFacts = { id: 'C-gone', tier: 'BRONZE', updatedAt: OLDER, email: 'old@example.com', city: 'Ystad' };
    const newer: CrmFacts = { id: 'C-gone', tier: 'GOLD', updatedAt: NEWER, email: 'new@example.com', city: 'Lund' };
    await deadLetterThenDeliver(ws, letter, newer);
    const end = await ws.sourceEnd();
    const expected = summary({ superseded: 1 });

    expect(await replay(ws, '--dry-run')).toEqual(expected);
    expect(await committedOffsets(replayGroupId(ws.groupId), [ws.deadLetter])).toEqual(new Map());
    expect(await replay(ws)).toEqual(expected);
    expect(await ws.sourceEnd()).toBe(end);
    // Passed over for good, like any handled letter: the next run has nothing left.
    expect(await replay(ws)).toEqual(summary({}));
    expect(target.profile('mbox3rdPartyId', 'C-gone')).toEqual({ tier: 'gold', lastUpdated: NEWER.toISOString(), email: 'new@example.com', city: 'Lund' });
  });

  it('--dry-run reports what would be trimmed, and produces and commits nothing', async () => {
    const ws = await create(ALL);
    await deadLetterThenDeliver(
      ws,
      { id: 'C-dry', tier: 'BRONZE', updatedAt: OLDER, city: 'Kiruna' },
      { id: 'C-dry', tier: 'GOLD', updatedAt: NEWER, email: 'd@example.com' },
    );
    const end = await ws.sourceEnd();
    const expected = summary({ replayed: 1, trimmed: 1, byTopic: { [ws.source]: 1 } });
    expect(await replay(ws, '--dry-run')).toEqual(expected);
    expect(await ws.sourceEnd()).toBe(end);
    expect(await committedOffsets(replayGroupId(ws.groupId), [ws.deadLetter])).toEqual(new Map());
    expect(await replay(ws)).toEqual(expected);
  });

  it('a later event that is a dead letter itself sets nothing: both are replayed whole, in order', async () => {
    const ws = await create(ALL);
    const bronze: CrmFacts = { id: 'C-both', tier: 'BRONZE', updatedAt: OLDER, email: 'e@example.com' };
    const gold: CrmFacts = { id: 'C-both', tier: 'GOLD', updatedAt: NEWER };
    const [first, second] = await ws.produce(bronze, gold);
    await ws.writeDeadLetter(bronze, first as number);
    await ws.writeDeadLetter(gold, second as number);
    await ws.commitConnector((second as number) + 1);

    expect(await replay(ws)).toEqual(summary({ replayed: 2, byTopic: { [ws.source]: 2 } }));
    await ws.deliver();
    expect(target.profile('mbox3rdPartyId', 'C-both')).toEqual({ tier: 'gold', lastUpdated: NEWER.toISOString(), email: 'e@example.com' });
  });

  it('a copy that failed again keeps what its first replay left out', async () => {
    const ws = await create(ALL);
    const bronze: CrmFacts = { id: 'C-again', tier: 'BRONZE', updatedAt: OLDER, email: 'f@example.com' };
    await deadLetterThenDeliver(ws, bronze, { id: 'C-again', tier: 'PLATINUM', updatedAt: NEWER });
    expect(await replay(ws)).toEqual(summary({ replayed: 1, trimmed: 1, byTopic: { [ws.source]: 1 } }));
    // The copy is refused too: the connector dead-letters it with its headers, omit list included.
    const copy = (await ws.sourceRecords()).at(-1);
    await ws.writeDeadLetter(bronze, (await ws.sourceEnd()) - 1, copy?.headers);
    await ws.commitConnector(await ws.sourceEnd());

    expect(await replay(ws)).toEqual(summary({ replayed: 1, trimmed: 1, byTopic: { [ws.source]: 1 } }));
    await ws.deliver();
    expect(target.profile('mbox3rdPartyId', 'C-again')).toEqual({ tier: 'platinum', lastUpdated: NEWER.toISOString(), email: 'f@example.com' });
  });

  it('leaves no consumer group of its own behind', async () => {
    const ws = await create(ALL);
    await deadLetterThenDeliver(ws, { id: 'C-clean', tier: 'BRONZE', updatedAt: OLDER }, { id: 'C-clean', tier: 'GOLD', updatedAt: NEWER });
    const config = await loadConfig(ws.configPath);
    await replayDeadLetters(config, { filter: { sourceTopics: [], errorCodes: [] }, dryRun: false }, logger);
    expect(await groupsStartingWith(`${replayGroupId(ws.groupId)}.`)).toEqual([]);
  });
});
