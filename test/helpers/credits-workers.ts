// Starts credits-worker.ts child processes (see there) and releases them together.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const WORKER = path.join(import.meta.dirname, 'credits-worker.ts');

export interface Worker {
  child: ChildProcess;
  /** Everything written to stdout so far. */
  output(): string;
  /** Resolves with stdout once the process has exited. */
  exited: Promise<string>;
}

export async function startWorkers(count: number, env: (index: number) => Record<string, string>): Promise<Worker[]> {
  const workers = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      new Promise<Worker>((resolve, reject) => {
        const child = spawn(process.execPath, [WORKER], { env: { ...process.env, ...env(i) }, stdio: ['pipe', 'pipe', 'inherit'] });
        let out = '';
        const exited = new Promise<string>((r) => child.on('exit', () => r(out)));
        child.stdout!.on('data', (d) => {
          out += d;
          if (out.startsWith('ready\n')) resolve({ child, output: () => out, exited });
        });
        child.on('exit', (code) => reject(new Error(`worker exited with ${code} before it was ready`)));
        child.on('error', reject);
      }),
    ),
  );
  for (const w of workers) w.child.stdin!.write('go\n');
  return workers;
}
