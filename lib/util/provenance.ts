import { execFileSync } from 'child_process';
import * as os from 'os';
import { projectRoot } from './files';

/** The git commit of the workspace (with "-dirty" when tracked files changed), or "unknown". */
export function gitCommit(): string {
  try {
    const cwd = projectRoot();
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd,
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .toString()
      .trim();
    return dirty ? `${head}-dirty` : head;
  } catch {
    return 'unknown';
  }
}

/** Facts about the machine a result came from. */
export function machineInfo(): { node: string; platform: string; cpus: number; cpuModel: string; hostname: string } {
  const cpus = os.cpus();
  return {
    node: process.version,
    platform: `${os.platform()}-${os.arch()}`,
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    hostname: os.hostname(),
  };
}
