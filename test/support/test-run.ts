/**
 * What a test file creates and where: Kafka names under one prefix per run and per file, and
 * temporary folders under one folder per run and per file, so that cleanup finds every one of
 * them — for the file as soon as it ends (cleanup.setup.ts), for the run at its end (run.global.ts).
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { inject } from 'vitest';

// Each test file runs in its own module graph, so this is one id per file.
const FILE_ID = randomUUID().slice(0, 8);
let namesHandedOut = false;

/** Prefix of every topic and consumer group this test file names: the run's prefix and the file's id. */
export function fileNamePrefix(): string {
  return `${inject('testRunPrefix')}${FILE_ID}.`;
}

/** True once this file named a topic or group, so that its cleanup has something to look for. */
export function kafkaNamesHandedOut(): boolean {
  return namesHandedOut;
}

/** A topic or consumer group name no other test uses, under this file's prefix. */
export function uniqueName(label: string): string {
  namesHandedOut = true;
  return `${fileNamePrefix()}${label}.${randomUUID().slice(0, 8)}`;
}

/** The folder holding every temporary folder of this test file. */
export function fileTempRoot(): string {
  return join(inject('testTempRoot'), FILE_ID);
}

/** A fresh temporary folder, removed when the test file ends. */
export async function testTempDir(label: string): Promise<string> {
  await mkdir(fileTempRoot(), { recursive: true });
  return mkdtemp(join(fileTempRoot(), `${label}-`));
}

/** A fresh temporary folder for synchronous helpers, removed when the test file ends. */
export function testTempDirSync(label: string): string {
  mkdirSync(fileTempRoot(), { recursive: true });
  return mkdtempSync(join(fileTempRoot(), `${label}-`));
}
