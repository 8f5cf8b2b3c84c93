/**
 * Claims: lock files that let several processes, on one machine or on machines sharing a file
 * system, split a results folder's work instead of duplicating it. A claim is a file created
 * exclusively (O_EXCL, fs flag 'wx') holding its owner (pid, hostname, start time, a random token).
 * Whoever creates it owns the work; everyone else skips it (runs) or waits for it (feature caches).
 *
 * A lock left behind is taken over when its owner is known to be gone:
 * - same host: its pid no longer exists (process.kill(pid, 0) fails with ESRCH);
 * - another host (pids mean nothing here): the file was not touched for `staleAfterMs`. Owners
 *   refresh their file's mtime every `heartbeatMs` while the event loop runs (the study's main
 *   thread is idle while worker threads train; inline runs, workers 0, touch it between runs only).
 * Taking over is atomic: the stale file is renamed aside (only one process can), then checked to be
 * the one judged stale; the new claim is then made with 'wx' like any other.
 *
 * Not proper-lockfile: it keeps no owner in the lock (no pid check, so a dead local owner blocks
 * until its mtime ages) and treats a missed mtime update as a compromised lock, which inline runs
 * that block the event loop for minutes would trigger.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** What a claim file holds. */
export interface ClaimOwner {
  pid: number;
  hostname: string;
  /** ISO time the claim was made. */
  startedAt: string;
  /** Random: tells this claim from a later one of the same process. */
  token: string;
  /** What is claimed (a run id, a feature cache key), for people reading the file. */
  what?: string;
}

export interface ClaimOptions {
  /** A claim of another host whose file was not touched for this long is taken over. Default 30 min. */
  staleAfterMs?: number;
  /** How often a held claim's mtime is refreshed. Default 60 s. */
  heartbeatMs?: number;
  /** This machine's name. Default os.hostname(). */
  hostname?: string;
  /** Told when a stale claim is taken over (why). */
  log?: (line: string) => void;
}

export const DEFAULT_CLAIM_STALE_MS = 30 * 60 * 1000;
const DEFAULT_HEARTBEAT_MS = 60 * 1000;
/** A claim file still empty or half-written this long after its mtime is a crashed writer's. */
const UNREADABLE_GRACE_MS = 10 * 1000;

const held = new Set<Claim>();
let exitHook = false;

/** A held claim; release() removes its file (only if it is still this claim's). */
export class Claim {
  private timer: NodeJS.Timeout | undefined;
  constructor(
    readonly file: string,
    readonly owner: ClaimOwner,
    heartbeatMs: number,
  ) {
    this.timer = setInterval(() => {
      try {
        const now = new Date();
        fs.utimesSync(this.file, now, now);
      } catch {
        /* gone: released or taken over */
      }
    }, heartbeatMs);
    this.timer.unref();
    held.add(this);
    if (!exitHook) {
      exitHook = true;
      // A process that exits (even on an uncaught error) leaves no claims of its own behind.
      process.on('exit', () => {
        for (const c of [...held]) c.release();
      });
    }
  }

  release(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (!held.delete(this)) return;
    if (readClaimOwner(this.file)?.token === this.owner.token) {
      try {
        fs.unlinkSync(this.file);
      } catch {
        /* already gone */
      }
    }
  }
}

/** The owner recorded in a claim file, or undefined when absent or unreadable. */
export function readClaimOwner(file: string): ClaimOwner | undefined {
  try {
    const o = JSON.parse(fs.readFileSync(file, 'utf8')) as ClaimOwner;
    return typeof o.pid === 'number' && typeof o.hostname === 'string' && typeof o.token === 'string' ? o : undefined;
  } catch {
    return undefined;
  }
}

/** True when a process with this pid exists on this machine. */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, under another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Why a claim file may be taken over, or undefined while its owner may still be working. */
export function staleReason(file: string, opts: ClaimOptions = {}): string | undefined {
  let mtimeMs: number;
  try {
    mtimeMs = fs.statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
  const age = Date.now() - mtimeMs;
  const owner = readClaimOwner(file);
  if (!owner) return age > UNREADABLE_GRACE_MS ? `unreadable claim file, untouched for ${Math.round(age / 1000)} s` : undefined;
  const host = opts.hostname ?? os.hostname();
  if (owner.hostname === host) return processAlive(owner.pid) ? undefined : `its process ${owner.pid} on ${host} (since ${owner.startedAt}) is gone`;
  const staleAfter = opts.staleAfterMs ?? DEFAULT_CLAIM_STALE_MS;
  return age > staleAfter ? `process ${owner.pid} on ${owner.hostname} (since ${owner.startedAt}) has not touched it for ${Math.round(age / 1000)} s` : undefined;
}

/**
 * Claims `file` for this process: the Claim, or undefined when another live owner holds it.
 * A stale claim (see staleReason) is taken over.
 */
export function tryClaim(file: string, what?: string, opts: ClaimOptions = {}): Claim | undefined {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const owner: ClaimOwner = { pid: process.pid, hostname: opts.hostname ?? os.hostname(), startedAt: new Date().toISOString(), token: crypto.randomBytes(8).toString('hex'), ...(what ? { what } : {}) };
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const fd = fs.openSync(file, 'wx');
      try {
        fs.writeSync(fd, JSON.stringify(owner) + '\n');
      } finally {
        fs.closeSync(fd);
      }
      return new Claim(file, owner, opts.heartbeatMs ?? DEFAULT_HEARTBEAT_MS);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const judged = readClaimOwner(file);
    const reason = staleReason(file, opts);
    if (!reason) return undefined;
    // Move it aside (atomic: one process wins), then make sure it was the claim judged stale.
    const aside = `${file}.stale-${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
    try {
      fs.renameSync(file, aside);
    } catch {
      continue; // someone else moved or released it first
    }
    const moved = readClaimOwner(aside);
    if (moved?.token !== judged?.token) {
      // A fresh claim made in between: give it back (unless yet another one exists) and leave it be.
      try {
        fs.linkSync(aside, file);
      } catch {
        /* replaced meanwhile */
      }
      fs.rmSync(aside, { force: true });
      return undefined;
    }
    fs.rmSync(aside, { force: true });
    opts.log?.(`${path.basename(file)}: took over a stale claim (${reason})`);
  }
  return undefined;
}

/**
 * Claims `file` once `isDone()` is false and no live owner holds it, waiting (polling every
 * `pollMs`) while another process does the work. Undefined when the work got done meanwhile.
 */
export async function claimOrWait(file: string, isDone: () => boolean, what?: string, opts: ClaimOptions & { pollMs?: number } = {}): Promise<Claim | undefined> {
  let announced = false;
  for (;;) {
    if (isDone()) return undefined;
    const claim = tryClaim(file, what, opts);
    if (claim) {
      // Finished between the check and the claim: nothing to do.
      if (isDone()) {
        claim.release();
        return undefined;
      }
      return claim;
    }
    if (!announced) {
      const o = readClaimOwner(file);
      opts.log?.(`waiting for ${what ?? path.basename(file)}: claimed by process ${o?.pid ?? '?'} on ${o?.hostname ?? '?'}`);
      announced = true;
    }
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 1000));
  }
}

/** What forEachClaimed did. */
export interface ClaimedWork {
  /** Ids this process claimed and ran. */
  ran: string[];
  /** Ids another live process was working on. */
  busy: string[];
  /** Ids found finished once claimed (another process finished them after the plan was made). */
  doneElsewhere: string[];
}

/**
 * Runs `fn` on each item this process can claim (`<lockDir>/<id>.lock`), `lanes` at a time; items
 * claimed by a live process elsewhere are skipped, items found done (`isDone`) once claimed too.
 * Each claim is released when its item finishes or fails.
 */
export async function forEachClaimed<T extends { id: string }>(
  items: readonly T[],
  args: { lockDir: string; lanes: number; isDone: (item: T) => boolean } & ClaimOptions,
  fn: (item: T) => Promise<unknown>,
): Promise<ClaimedWork> {
  const out: ClaimedWork = { ran: [], busy: [], doneElsewhere: [] };
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++];
      const claim = tryClaim(path.join(args.lockDir, `${item.id}.lock`), item.id, args);
      if (!claim) {
        out.busy.push(item.id);
        continue;
      }
      try {
        if (args.isDone(item)) {
          out.doneElsewhere.push(item.id);
          continue;
        }
        await fn(item);
        out.ran.push(item.id);
      } finally {
        claim.release();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, args.lanes) }, lane));
  return out;
}

/** Claims held by one piece of code, all released at once (in a finally). */
export class ClaimSet {
  private claims: Claim[] = [];
  add<C extends Claim | undefined>(claim: C): C {
    if (claim) this.claims.push(claim);
    return claim;
  }
  releaseAll(): void {
    for (const c of this.claims.splice(0)) c.release();
  }
}
