import { strict as assert } from 'assert';
import { spawn, spawnSync, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { claimOrWait, readClaimOwner, tryClaim } from '../../lib/study/claims';
import { readRecords } from '../../lib/study/summary';
import { fixture, tmpDir } from './fixtures';

/** The pid of a process that has exited (so no process has it, barring reuse in the next instant). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '0']);
  return r.pid!;
}

function writeClaim(file: string, owner: object, ageMs = 0): void {
  fs.writeFileSync(file, JSON.stringify(owner));
  const t = new Date(Date.now() - ageMs);
  fs.utimesSync(file, t, t);
}

describe('study/claims (lock files shared by processes)', function () {
  this.timeout(180000);

  it('claims a file exclusively with pid, hostname and start time; a live owner keeps it; release removes it', () => {
    const file = path.join(tmpDir('claims-'), 'a.lock');
    const c = tryClaim(file, 'run a')!;
    assert.ok(c);
    const owner = readClaimOwner(file)!;
    assert.equal(owner.pid, process.pid);
    assert.equal(owner.hostname, os.hostname());
    assert.equal(owner.what, 'run a');
    assert.ok(Math.abs(Date.parse(owner.startedAt) - Date.now()) < 60000);
    assert.equal(tryClaim(file), undefined, 'held by a live process (this one)');
    c.release();
    assert.equal(fs.existsSync(file), false);
  });

  it("takes over a dead process's claim on this host at once, another host's only once untouched for staleAfterMs", () => {
    const dir = tmpDir('claims-stale-');
    const dead = path.join(dir, 'dead.lock');
    const pid = deadPid();
    writeClaim(dead, { pid, hostname: os.hostname(), startedAt: '2026-01-01T00:00:00.000Z', token: 'old' });
    const lines: string[] = [];
    const c = tryClaim(dead, undefined, { log: (l) => lines.push(l) })!;
    assert.ok(c, 'dead owner reclaimed');
    assert.equal(readClaimOwner(dead)!.pid, process.pid);
    assert.deepEqual(lines, [`dead.lock: took over a stale claim (its process ${pid} on ${os.hostname()} (since 2026-01-01T00:00:00.000Z) is gone)`]);
    c.release();

    const remote = path.join(dir, 'remote.lock');
    const other = { pid: process.pid, hostname: 'another-node', startedAt: '2026-01-01T00:00:00.000Z', token: 'remote' };
    writeClaim(remote, other, 5000);
    assert.equal(tryClaim(remote, undefined, { staleAfterMs: 60000 }), undefined, 'touched 5 s ago: still owned');
    writeClaim(remote, other, 120000);
    const r = tryClaim(remote, undefined, { staleAfterMs: 60000 });
    assert.ok(r, 'untouched for 120 s > 60 s: taken over');
    assert.equal(readClaimOwner(remote)!.hostname, os.hostname());
    r.release();
    assert.deepEqual(fs.readdirSync(dir), [], 'nothing left behind (no aside files)');
  });

  it('claimOrWait waits while another process holds the work and returns nothing once it is done', async () => {
    const dir = tmpDir('claims-wait-');
    const file = path.join(dir, 'feat.lock');
    const result = path.join(dir, 'feat.bin');
    // A real other process holds the claim for ~0.6 s, then writes the result and releases.
    const holder = spawn(process.execPath, ['-e', `const fs=require('fs');fs.writeFileSync(${JSON.stringify(file)},JSON.stringify({pid:process.pid,hostname:require('os').hostname(),startedAt:new Date().toISOString(),token:'h'}));setTimeout(()=>{fs.writeFileSync(${JSON.stringify(result)},'x');fs.unlinkSync(${JSON.stringify(file)})},600)`]);
    const exited = new Promise((r) => holder.once('exit', r));
    while (!fs.existsSync(file)) await new Promise((r) => setTimeout(r, 10));
    const logs: string[] = [];
    const t0 = Date.now();
    const c = await claimOrWait(file, () => fs.existsSync(result), 'features X', { pollMs: 50, log: (l) => logs.push(l) });
    assert.equal(c, undefined);
    assert.ok(Date.now() - t0 >= 300, 'it waited');
    assert.match(logs[0], /^waiting for features X: claimed by process \d+ on /);
    await exited;
  });

  it('two real processes on one results folder split the runs: each run trained once, all records written', async () => {
    const fx = fixture();
    const out = tmpDir('claims-study-');
    const cacheDir = tmpDir('claims-cache-');
    const go = path.join(out, '..', `${path.basename(out)}.go`);
    const child = path.join(__dirname, 'claim_child.ts');
    const start = (): { proc: ChildProcess; stdout: string[]; stderr: string[]; ready: Promise<void>; done: Promise<number> } => {
      const proc = spawn(process.execPath, ['--require', require.resolve('tsx/cjs'), child, out, fx.dataFile, cacheDir, go], { stdio: ['ignore', 'pipe', 'pipe'] });
      const stdout: string[] = [];
      const stderr: string[] = [];
      let onReady: () => void;
      const ready = new Promise<void>((r) => (onReady = r));
      proc.stdout!.on('data', (d: Buffer) => {
        stdout.push(d.toString());
        if (stdout.join('').includes('ready\n')) onReady();
      });
      proc.stderr!.on('data', (d: Buffer) => stderr.push(d.toString()));
      const done = new Promise<number>((r) => proc.once('exit', (code) => r(code ?? -1)));
      return { proc, stdout, stderr, ready, done };
    };
    const a = start();
    const b = start();
    await Promise.all([a.ready, b.ready]);
    fs.writeFileSync(go, '');
    const codes = await Promise.all([a.done, b.done]);
    assert.deepEqual(codes, [0, 0], a.stderr.join('') + b.stderr.join(''));
    const parse = (p: { stdout: string[] }) => JSON.parse(p.stdout.join('').trim().split('\n').pop()!) as { ran: string[]; planned: number };
    const ra = parse(a);
    const rb = parse(b);
    const both = [...ra.ran, ...rb.ran];
    assert.equal(new Set(both).size, both.length, `a run was trained twice: ${ra.ran.filter((id) => rb.ran.includes(id)).join(', ')}`);
    assert.equal(both.length, ra.planned, `each of the ${ra.planned} runs once (a ran ${ra.ran.length}, b ran ${rb.ran.length})`);
    assert.equal(readRecords(out).length, ra.planned);
    assert.deepEqual(fs.readdirSync(path.join(out, 'runs')).filter((f) => f.includes('.lock')), [], 'no lock files left');
    assert.deepEqual(fs.readdirSync(cacheDir).filter((f) => f.includes('.lock')), [], 'no extraction lock left');
    // Features were extracted by one process; the other waited for them.
    const extracted = [a, b].filter((p) => !p.stderr.join('').includes('waiting for features')).length;
    assert.ok(extracted >= 1);
    console.log(`      (split: ${ra.ran.length} + ${rb.ran.length} of ${ra.planned} runs)`);
  });
});
