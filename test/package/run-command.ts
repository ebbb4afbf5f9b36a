import { spawn } from 'node:child_process';

export interface CommandResult {
  command: string;
  cwd: string;
  /** Exit code, or null when the process was killed by a signal (including the timeout). */
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface RunOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /** Kill the process after this many milliseconds. */
  timeout: number;
}

/** Runs a command to completion and never rejects: the caller decides what a failure means. */
export function runCommand(file: string, args: readonly string[], options: RunOptions): Promise<CommandResult> {
  const command = [file, ...args].join(' ');
  const started = Date.now();
  return new Promise((resolve) => {
    // npm and package bins are .cmd scripts on Windows, which Node only starts through a shell.
    const child = spawn(file, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      shell: process.platform === 'win32' && (file === 'npm' || file.endsWith('.cmd')),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeout);
    const finish = (code: number | null, signal: NodeJS.Signals | null, spawnError?: Error) => {
      clearTimeout(timer);
      resolve({
        command,
        cwd: options.cwd,
        code,
        signal,
        timedOut,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8') + (spawnError ? `\n${spawnError.stack ?? spawnError.message}` : ''),
        ms: Date.now() - started,
      });
    };
    child.on('error', (error) => finish(null, null, error));
    child.on('close', (code, signal) => finish(code, signal));
  });
}

function tail(text: string, max = 6_000): string {
  const trimmed = text.trimEnd();
  return trimmed.length > max ? `…${trimmed.slice(-max)}` : trimmed || '(empty)';
}

/** A failure message with everything needed to debug it from a CI log. */
export function describeFailure(what: string, result: CommandResult, hint?: string): string {
  const how = result.timedOut
    ? `timed out after ${result.ms} ms`
    : result.signal ? `was killed by ${result.signal}` : `exited with code ${result.code}`;
  return [
    `${what}: \`${result.command}\` in ${result.cwd} ${how}.`,
    ...(hint ? [hint] : []),
    '--- stdout ---',
    tail(result.stdout),
    '--- stderr ---',
    tail(result.stderr),
  ].join('\n');
}

export function succeeded(result: CommandResult): boolean {
  return result.code === 0 && !result.timedOut;
}
