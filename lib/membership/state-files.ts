/**
 * Heartbeat's persistent files (spec 3.3, 13), in the same formats so that a
 * node switched from Heartbeat keeps its identity and generation history.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HbError, STATE_ERRORS } from '../util/errors.js';
import { writeFileReplacing } from '../util/files.js';
import type { Logger } from '../util/log.js';

export const GENERATION_FILE = 'hb_generation';
export const UUID_FILE = 'hb_uuid';
export const HOSTCACHE_FILE = 'hostcache';

/**
 * Reads, increments and durably stores the generation; returns the new value.
 * A generation that cannot be stored is fatal: restarting with a reused
 * generation makes peers treat the restart as a partition heal.
 */
export function nextGeneration(stateDir: string, method: 'file' | 'time', nowWallMs: number, log: Logger): number {
  const nowSec = Math.floor(nowWallMs / 1000);
  if (method === 'time') {
    log.info(`Heartbeat generation: ${nowSec}`);
    return nowSec;
  }
  const path = join(stateDir, GENERATION_FILE);
  let gen: number;
  try {
    const text = readFileSync(path, 'latin1').trim();
    const parsed = /^\d+$/.test(text) ? Number(text) : NaN;
    if (!Number.isSafeInteger(parsed)) throw new Error(`unparseable contents ${JSON.stringify(text.slice(0, 20))}`);
    gen = parsed + 1;
  } catch {
    log.warn(`No Previous generation - starting at ${nowSec + 1}`);
    gen = nowSec + 1;
  }
  try {
    mkdirSync(stateDir, { recursive: true, mode: 0o755 });
    writeFileReplacing(path, `${String(gen).padStart(15, ' ')}\n`);
  } catch (err) {
    throw new HbError(STATE_ERRORS.GENERATION_WRITE, `cannot store heartbeat generation ${gen} in ${path}: ${(err as Error).message}`);
  }
  log.info(`Heartbeat generation: ${gen}`);
  return gen;
}

/** The 16-byte node UUID, created on first start (spec 13). */
export function loadOrCreateUuid(stateDir: string, log: Logger): Buffer {
  const path = join(stateDir, UUID_FILE);
  try {
    const data = readFileSync(path);
    if (data.length === 16) return data;
    log.warn(`${path} has ${data.length} bytes instead of 16 - generating a new uuid.`);
  } catch {
    log.info('No uuid found for current node - generating a new uuid.');
  }
  const uuid = randomBytes(16);
  // RFC 4122 version 4 bits, as libuuid's random uuids have them.
  uuid[6] = ((uuid[6] ?? 0) & 0x0f) | 0x40;
  uuid[8] = ((uuid[8] ?? 0) & 0x3f) | 0x80;
  try {
    mkdirSync(stateDir, { recursive: true, mode: 0o755 });
    writeFileReplacing(path, uuid);
  } catch (err) {
    log.error(`Cannot write uuid file ${path}: ${(err as Error).message}`);
  }
  return uuid;
}

/**
 * `uuidfrom nodename` (spec 13): glibc srand(hash(name)) then 32 rand()%16
 * hex digits. glibc's rand() is the TYPE_3 additive feedback generator,
 * reproduced here so the UUID matches what heartbeat computes.
 */
export function uuidFromNodename(name: string): Buffer {
  let h = 0;
  const bytes = Buffer.from(name, 'latin1');
  for (let i = 0; i < bytes.length; i++) {
    const c = (bytes[i] ?? 0) << 24 >> 24; // chars are signed in C
    h = i === 0 ? c >>> 0 : (Math.imul(h, 31) + c) >>> 0;
  }
  const rand = glibcRand(h);
  let hex = '';
  for (let i = 0; i < 32; i++) hex += (rand() % 16).toString(16);
  return Buffer.from(hex, 'hex');
}

function glibcRand(seed: number): () => number {
  const r: number[] = new Array<number>(344);
  r[0] = (seed === 0 ? 1 : seed) | 0;
  for (let i = 1; i < 31; i++) {
    // r[i] = (16807 * r[i-1]) % 2147483647 computed in 64-bit signed arithmetic
    const prev = r[i - 1] ?? 0;
    let v = Number((16807n * BigInt(prev)) % 2147483647n);
    if (v < 0) v += 2147483647;
    r[i] = v;
  }
  for (let i = 31; i < 34; i++) r[i] = r[i - 31] ?? 0;
  for (let i = 34; i < 344; i++) r[i] = ((r[i - 31] ?? 0) + (r[i - 3] ?? 0)) | 0;
  const state = r;
  return () => {
    const n = state.length;
    const v = ((state[n - 31] ?? 0) + (state[n - 3] ?? 0)) | 0;
    state.push(v);
    state.shift();
    return (v >>> 1) & 0x7fffffff;
  };
}

export function uuidToText(uuid: Buffer): string {
  const h = uuid.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** Writes the host cache (`name\tuuid\tweight\tsite`), best effort. */
export function writeHostCache(stateDir: string, entries: { name: string; uuid: Buffer | undefined }[], log: Logger): void {
  const text = entries
    .filter((e) => e.uuid !== undefined)
    .map((e) => `${e.name}\t${uuidToText(e.uuid as Buffer)}\t100\t\n`)
    .join('');
  try {
    writeFileReplacing(join(stateDir, HOSTCACHE_FILE), text);
  } catch (err) {
    log.warn(`Cannot write host cache in ${stateDir}: ${(err as Error).message}`);
  }
}

/**
 * Where a node keeps what must survive a restart: its generation, its uuid
 * and the host cache. The daemon uses the files above; tests and the
 * simulator keep them in memory.
 */
export interface StateStore {
  /** Increments and stores the generation (fatal when it cannot be stored). */
  nextGeneration(method: 'file' | 'time', nowWallMs: number, log: Logger): number;
  loadOrCreateUuid(log: Logger): Buffer;
  writeHostCache(entries: { name: string; uuid: Buffer | undefined }[], log: Logger): void;
}

export function fileStateStore(stateDir: string): StateStore {
  return {
    nextGeneration: (method, nowWallMs, log) => nextGeneration(stateDir, method, nowWallMs, log),
    loadOrCreateUuid: (log) => loadOrCreateUuid(stateDir, log),
    writeHostCache: (entries, log) => writeHostCache(stateDir, entries, log),
  };
}

/** A state store in memory: generations count up from `firstGeneration`, the uuid is fixed. */
export class MemoryStateStore implements StateStore {
  generation: number;
  hostCache: { name: string; uuid: string }[] = [];
  constructor(readonly uuid: Buffer, firstGeneration = 1) {
    this.generation = firstGeneration - 1;
  }
  nextGeneration(method: 'file' | 'time', nowWallMs: number, log: Logger): number {
    this.generation = method === 'time' ? Math.floor(nowWallMs / 1000) : this.generation + 1;
    log.info(`Heartbeat generation: ${this.generation}`);
    return this.generation;
  }
  loadOrCreateUuid(): Buffer {
    return this.uuid;
  }
  writeHostCache(entries: { name: string; uuid: Buffer | undefined }[]): void {
    this.hostCache = entries.filter((e) => e.uuid !== undefined).map((e) => ({ name: e.name, uuid: uuidToText(e.uuid as Buffer) }));
  }
}
