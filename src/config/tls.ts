/**
 * TLS and HTTP protocol settings: which combinations make sense (checked when the config is
 * resolved) and the certificate material (read from disk when a worker boots, when the master
 * starts or re-reads its config on HUP, and in single-process mode on HUP).
 */
import type { SecureContextOptions } from 'node:tls';
import { UsageError } from '../errors.ts';
import { readFileSync } from '../fs.ts';
import type { Config, HttpProtocol, SettingName } from './settings.ts';

/** How the worker's server speaks: chosen once at startup, never per request. */
export interface Wire {
  /** Options for a TLS server (key, cert, ca, ciphers, client certs); null = cleartext. */
  readonly tls: WireTls | null;
  /** HTTP/1.x served (over TLS: the ALPN fallback and clients that send no ALPN). */
  readonly h1: boolean;
  /** HTTP/2: over TLS by ALPN (h2), or cleartext with prior knowledge (h2c). */
  readonly h2: boolean;
}

export interface WireTls extends SecureContextOptions {
  readonly requestCert: boolean;
  readonly rejectUnauthorized: boolean;
}

/** --http-protocols plus the --http2 shorthand. */
export function protocolsOf(c: Pick<Config, 'httpProtocols' | 'http2'>): Set<HttpProtocol> {
  const set = new Set(c.httpProtocols as HttpProtocol[]);
  if (c.http2) set.add('h2');
  return set;
}

/**
 * Settings that are fine alone but not together; `from(name)` says where a value came from.
 * Throws a UsageError naming both sides.
 */
export function checkTlsSettings(
  values: Readonly<Record<string, unknown>>,
  from: (name: SettingName) => string,
): void {
  const c = values as unknown as Config;
  const shown = (name: SettingName) => `${name} ${JSON.stringify(c[name])} (from ${from(name)})`;
  if (Boolean(c.certfile) !== Boolean(c.keyfile)) {
    const [set, unset] = c.certfile ? ['certfile', 'keyfile'] : ['keyfile', 'certfile'];
    throw new UsageError(
      `corral: ${shown(set as SettingName)} needs ${unset} (--${unset}) too: TLS needs both a certificate and its key`,
    );
  }
  const protocols = protocolsOf(c);
  if (protocols.size === 0) {
    throw new UsageError(
      `corral: ${shown('httpProtocols')} names no protocol; allowed: h1, h2, h2c`,
    );
  }
  if (c.certfile) {
    if (protocols.has('h2c')) {
      throw new UsageError(
        `corral: h2c (cleartext HTTP/2) in ${shown('httpProtocols')} cannot be served over TLS (certfile from ${from('certfile')}); use h2 for HTTP/2 over TLS`,
      );
    }
    return;
  }
  if (protocols.has('h2')) {
    const which =
      c.http2 && !c.httpProtocols.includes('h2') ? shown('http2') : shown('httpProtocols');
    throw new UsageError(
      `corral: h2 (${which}) is HTTP/2 over TLS and needs certfile and keyfile (--certfile, --keyfile); for cleartext HTTP/2 use --http-protocols h1,h2c`,
    );
  }
  for (const name of ['caCerts', 'ciphers'] as const) {
    if (c[name]) throw new UsageError(`corral: ${shown(name)} needs certfile and keyfile (TLS)`);
  }
  if (c.certReqs !== 'none') {
    throw new UsageError(`corral: ${shown('certReqs')} needs certfile and keyfile (TLS)`);
  }
}

function read(name: SettingName, flag: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new UsageError(
      `corral: ${name} (${flag}) ${path}: cannot read it (${e.code ?? e.message})`,
    );
  }
}

/**
 * The certificate files' contents (PEM text). The master reads them and sends them to each
 * worker it starts, so workers running as --user need no access to the private key.
 */
export interface TlsFiles {
  readonly cert: string;
  readonly key: string;
  readonly ca?: string;
}

/** Read --certfile, --keyfile and --ca-certs now; null without TLS. */
export function readTlsFiles(c: Config): TlsFiles | null {
  if (!c.certfile || !c.keyfile) return null;
  const cert = read('certfile', '--certfile', c.certfile).toString('utf8');
  const key = read('keyfile', '--keyfile', c.keyfile).toString('utf8');
  const ca = c.caCerts ? read('caCerts', '--ca-certs', c.caCerts).toString('utf8') : undefined;
  return { cert, key, ...(ca === undefined ? {} : { ca }) };
}

/**
 * The protocols and, with TLS, the certificate material: `files` if given (read by the
 * master), else read from disk now. A file that cannot be read, or does not parse as PEM, or
 * a key that does not match the certificate, throws a one-line UsageError naming the setting
 * and the path.
 */
export function loadWire(c: Config, files?: TlsFiles | null): Wire {
  const protocols = protocolsOf(c);
  if (!c.certfile || !c.keyfile) {
    return { tls: null, h1: protocols.has('h1'), h2: protocols.has('h2c') };
  }
  const { cert, key, ca } = files ?? (readTlsFiles(c) as TlsFiles);
  const tls: WireTls = {
    cert,
    key,
    ...(ca ? { ca } : {}),
    ...(c.ciphers ? { ciphers: c.ciphers } : {}),
    requestCert: c.certReqs !== 'none',
    rejectUnauthorized: c.certReqs === 'required',
  };
  // Parse now, so a bad file is named here rather than failing inside every handshake.
  try {
    // node:tls (and with it crypto) only when TLS is on: the master imports this module, and
    // loading them costs it 5 MiB of RSS (measured: 55.5 → 60.8 MiB).
    process.getBuiltinModule('node:tls').createSecureContext(tls);
  } catch (err) {
    const files = [`certfile ${c.certfile}`, `keyfile ${c.keyfile}`];
    if (ca) files.push(`ca-certs ${c.caCerts}`);
    const what = c.ciphers
      ? `${files.join(', ')}, ciphers ${JSON.stringify(c.ciphers)}`
      : files.join(', ');
    throw new UsageError(`corral: TLS settings do not load (${what}): ${(err as Error).message}`);
  }
  return { tls, h1: protocols.has('h1'), h2: protocols.has('h2') };
}
