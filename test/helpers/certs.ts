/** Certificates for TLS tests, made with the openssl command line. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Run openssl; false when it is missing or fails. */
export function openssl(...args: string[]): boolean {
  const r = spawnSync('openssl', args, { stdio: 'ignore' });
  return !r.error && r.status === 0;
}

export interface KeyPair {
  readonly cert: string;
  readonly key: string;
}

/**
 * A self-signed certificate for `cn` and its key, written as NAME.pem and NAME.key in `dir`
 * (a new temporary directory by default); null where openssl is missing.
 */
export function selfSigned(
  cn = 'localhost',
  dir = mkdtempSync(join(tmpdir(), 'corral-certs-')),
  name = cn,
): KeyPair | null {
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}.key`);
  const args = ['-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${cn}`];
  return openssl('req', ...args, '-keyout', key, '-out', cert) ? { cert, key } : null;
}
