/**
 * THE settings table. Every setting corral has is declared here once: its type, default, CLI
 * flags, environment variables, section and one-line doc. The `Config` type, the CLI parser,
 * `--help`, `corral config` and `docs/settings.md` are all derived from this table; no other
 * module holds a default or reads a setting from the environment.
 */
import { isTrustEntry } from '../proxy/ip.ts';
import { PROFILE_NAMES } from './profiles.ts';
import {
  boolean,
  decimal,
  integer,
  list,
  nullable,
  octalMask,
  oneOf,
  optionalInteger,
  optionalText,
  refine,
  seconds,
  size,
  stringMap,
  text,
  ValueError,
  type ValueType,
} from './values.ts';

export type Section =
  | 'App'
  | 'Config'
  | 'Server socket'
  | 'Security'
  | 'Worker processes'
  | 'Logging'
  | 'Observability'
  | 'Development';

export interface Setting<T, In = T> {
  readonly type: ValueType<T, In>;
  readonly default: T;
  /** CLI flags, short first (`-w`, `--workers`). Empty: not settable from the command line. */
  readonly flags: readonly string[];
  /** Extra environment variables besides `CORRAL_<NAME>` (conventions such as WEB_CONCURRENCY). */
  readonly env?: readonly string[];
  readonly section: Section;
  readonly doc: string;
  /** Longer notes for docs/settings.md. */
  readonly notes?: string;
  /** How the default reads in docs when it is computed at run time. */
  readonly defaultText?: string;
}

/** Infers T (and the input type) from the value type alone, so defaults are checked against it. */
function setting<T, In = T>(
  s: Omit<Setting<T, In>, 'default'> & { readonly default: NoInfer<T> },
): Setting<T, In> {
  return s;
}

/** How a worker count is computed from the machine; see docs/sizing.md. */
export const WORKER_STRATEGIES = [
  'auto',
  'cpu',
  'io',
  'conservative',
  'memory',
  'adaptive',
] as const;
export type WorkerStrategy = (typeof WORKER_STRATEGIES)[number];

/** A strategy or a fixed count; 0 = single-process mode. */
export type WorkersValue = number | WorkerStrategy;
const workersType: ValueType<WorkersValue> = {
  describe: `an integer from 0 (single process) to 4096, or a strategy: ${WORKER_STRATEGIES.join(', ')}`,
  meta: 'INT|STRATEGY',
  parse(raw) {
    const s = typeof raw === 'string' ? raw.trim().toLowerCase() : '';
    const strategy = WORKER_STRATEGIES.find((w) => w === s);
    if (strategy) return strategy;
    try {
      return integer(0, 4096).parse(raw);
    } catch {
      throw new ValueError(workersType.describe);
    }
  },
};

/** How connections reach workers; see docs/architecture.md for the measurements. */
export const DISPATCH_MODES = ['least-conn', 'shared', 'reuseport'] as const;
export type DispatchMode = (typeof DISPATCH_MODES)[number];

/** Gunicorn's names and pino's (trace, warn, fatal), each kept as written. */
export const LOG_LEVELS = [
  'trace',
  'debug',
  'info',
  'warn',
  'warning',
  'error',
  'fatal',
  'critical',
] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['text', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

// Built outside the table so their literal types are inferred on their own.
const dispatchType = oneOf(DISPATCH_MODES);
const logLevelType = oneOf(LOG_LEVELS);
const logFormatType = oneOf(LOG_FORMATS);
const profileType = nullable(oneOf(PROFILE_NAMES));
/** Gunicorn's worker class names map onto corral's. */
export const WORKER_CLASSES = ['async', 'sync', 'thread'] as const;
export type WorkerClass = (typeof WORKER_CLASSES)[number];
const workerClassType = oneOf(WORKER_CLASSES, {
  gevent: 'async',
  eventlet: 'async',
  uvicorn: 'async',
  asgi: 'async',
  tornado: 'async',
  gthread: 'thread',
});
/** Gunicorn's ssl.CERT_* numbers, or their names. */
export const CERT_REQS = ['none', 'optional', 'required'] as const;
export type CertReqs = (typeof CERT_REQS)[number];
const certReqsNames = oneOf(CERT_REQS, { '0': 'none', '1': 'optional', '2': 'required' });
const certReqsType: ValueType<CertReqs, CertReqs | 0 | 1 | 2 | '0' | '1' | '2'> = {
  ...certReqsNames,
  // A config file may give Gunicorn's number as a number (`certReqs: 2`).
  parse: (raw) => certReqsNames.parse(typeof raw === 'number' ? String(raw) : raw),
};
export const HTTP_PROTOCOLS = ['h1', 'h2', 'h2c'] as const;
export type HttpProtocol = (typeof HTTP_PROTOCOLS)[number];
const httpProtocolType = oneOf(HTTP_PROTOCOLS);
/** PROXY protocol versions accepted; Gunicorn's older boolean reads as auto / off. */
export const PROXY_PROTOCOL_MODES = ['off', 'v1', 'v2', 'auto'] as const;
export type ProxyProtocolMode = (typeof PROXY_PROTOCOL_MODES)[number];
const proxyModeName = oneOf(PROXY_PROTOCOL_MODES, { true: 'auto', false: 'off' });
const proxyProtocolType: ValueType<
  ProxyProtocolMode,
  ProxyProtocolMode | boolean | 'true' | 'false'
> = {
  ...proxyModeName,
  parse: (raw) => (typeof raw === 'boolean' ? (raw ? 'auto' : 'off') : proxyModeName.parse(raw)),
};
const TRUST_LIST =
  'IP addresses and CIDR ranges (10.0.0.0/8, fd00::/8), comma-separated, or * for all';
const trustList: ValueType<string[], string | readonly string[]> = {
  ...list(refine(text('ADDRESS'), TRUST_LIST, isTrustEntry), { meta: 'ADDRESSES' }),
  describe: TRUST_LIST,
};
const envPair = refine(text('KEY=VALUE'), 'KEY=VALUE pairs', (s) => /^[A-Za-z_][\w.]*=/.test(s));
const bindAddr = text('ADDRESS');

/** What 0 means for the request limits, and the cap on a whole request head. */
export const REQUEST_LIMIT_MAX = {
  line: 65536,
  fields: 32768,
  fieldSize: 65536,
  head: 2 ** 20,
} as const;

export const GUNICORN_ACCESS_FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"';

export const settings = {
  app: setting({
    type: optionalText('APP'),
    default: null,
    flags: [],
    section: 'App',
    doc: 'The app to serve: a script that calls `listen()` itself, run unchanged (`path`), or a module that exports a handler (`path[:export]`, `path:factory()`); given as the first argument.',
    notes:
      "Each worker runs the file as `node path` would (its main module, with `-- ARGS` as its arguments). If it calls `listen()` on an HTTP server, that server is served on corral's binds (listen mode, see docs/architecture.md); otherwise the module default export is used. The export may be a `(req, res)` listener, a fetch handler (`{ fetch }` or a one-argument function returning a `Response`), a Fastify instance, or a factory (sync or async) returning one of these.",
  }),
  args: setting({
    type: list(text('ARG'), { splitOn: null, meta: 'ARGS' }),
    default: [],
    flags: [],
    section: 'App',
    doc: 'Arguments for an app that is a script: each worker runs it as `node APP ARGS…`; given after `--` on the command line (`corral APP [options] -- ARGS…`).',
    notes:
      'The script sees them as `process.argv.slice(2)`, so command-line servers run unchanged, e.g. `corral node_modules/@react-router/serve/bin.cjs -- ./build/server/index.js`.',
  }),
  config: setting({
    type: optionalText('FILE'),
    default: null,
    flags: ['-c', '--config'],
    section: 'Config',
    doc: 'Config file to load; by default the first of corral.config.{ts,mts,js,mjs,json} in the current directory.',
  }),
  profile: setting({
    type: profileType,
    default: null,
    flags: ['--profile'],
    section: 'Config',
    doc: `A named preset of settings: ${PROFILE_NAMES.join(', ')}.`,
    notes:
      "A profile's values sit just above the defaults: the config file, the environment and the command line all override them. `corral config --explain` lists every profile; see [Profiles](#profiles) below and docs/sizing.md.",
  }),
  chdir: setting({
    type: optionalText('DIR'),
    default: null,
    flags: ['--chdir'],
    section: 'Config',
    doc: 'Change to this directory before loading the app.',
  }),
  env: setting({
    type: list(envPair, { splitOn: null }),
    default: [],
    flags: ['-e', '--env'],
    section: 'Config',
    doc: 'Set an environment variable for the app (repeatable): `-e KEY=VALUE`.',
  }),
  nodeArgs: setting({
    type: list(text('ARG'), { splitOn: ' ', meta: 'ARGS' }),
    default: [],
    flags: ['--node-args'],
    section: 'Config',
    doc: 'Extra Node options for worker processes, e.g. `--node-args="--import tsx"`.',
    notes:
      "Node ≥ 22.18 runs `.ts` apps directly when they use only erasable syntax; apps that need more (enums, decorators, path aliases) can load a loader such as tsx this way. Workers start with `--no-allocation-site-pretenuring` and (but for the thread class) `--min-semi-space-size=4` before these (a server's request objects die young, and a young generation that never grows past 2 MiB scavenges twice as often; see docs/architecture.md); name pretenuring or a semi-space size here to keep V8's default for it.",
  }),
  preload: setting({
    type: boolean(),
    default: false,
    flags: ['--preload'],
    section: 'Config',
    doc: 'Load the app once in the master before starting workers, to fail fast on a broken app.',
    notes:
      'Node has no copy-on-write fork, so unlike Gunicorn this shares no memory with workers: it only checks the app loads before any worker starts.',
  }),
  pid: setting({
    type: optionalText('FILE'),
    default: null,
    flags: ['-p', '--pid'],
    section: 'Config',
    doc: "Write the master's pid to this file; removed on exit.",
  }),
  bind: setting({
    type: list(bindAddr),
    default: ['127.0.0.1:8000'],
    flags: ['-b', '--bind'],
    env: ['HOST', 'PORT'],
    section: 'Server socket',
    doc: 'Address to listen on (repeatable; comma-separated in env): `HOST:PORT`, `[IPv6]:PORT`, `unix:PATH`, or `fd://N` (a listening socket already open at file descriptor N).',
    notes:
      "The conventions `PORT` and `HOST` are read too: `PORT` alone binds `0.0.0.0:$PORT` (as Gunicorn and most platforms do), `HOST` alone binds `$HOST:8000`, both bind `$HOST:$PORT`. `CORRAL_BIND` (comma-separated) wins over them. Port 0 picks a free port; the log says which. Under systemd socket activation (`LISTEN_FDS`, when `LISTEN_PID` is corral's pid) the passed sockets are served instead of the default bind; a bind you set must then name each of them as `fd://3`, `fd://4`, … (see docs/deploy/systemd.md).",
  }),
  backlog: setting({
    type: integer(1, 65535),
    default: 2048,
    flags: ['--backlog'],
    section: 'Server socket',
    doc: 'Maximum number of pending connections in the kernel queue.',
  }),
  dispatch: setting({
    type: dispatchType,
    default: 'shared',
    flags: ['--dispatch'],
    section: 'Server socket',
    doc: 'How connections reach workers: shared (workers accept on the one socket the master holds; the master steers them with fair shares), least-conn (the master accepts and hands each connection to the least busy worker), reuseport (one SO_REUSEPORT socket per worker).',
    notes:
      'See docs/architecture.md for the measurements behind the default. The sync class uses shared too (a sync worker accepts only while it holds no connection, so the kernel gives each connection to an idle worker), or least-conn when `--queue-timeout` is set (only the master can time a waiting connection); it refuses reuseport. The thread class uses reuseport. `reuseport` applies to TCP binds only (Linux); unix sockets and `fd://` sockets are always shared.',
  }),
  reusePort: setting({
    type: boolean(),
    default: false,
    flags: ['--reuse-port'],
    section: 'Server socket',
    doc: "Set SO_REUSEPORT on the master's TCP listening sockets, so several corral instances can bind the same port and the kernel spreads connections among them.",
    notes:
      "Gunicorn's `reuse_port`. For supervisors that run one server per process (supervisord `numprocs`): each instance must run as the same user. Linux only; unix and `fd://` binds are not affected.",
  }),
  umask: setting({
    type: nullable(octalMask()),
    default: null,
    flags: ['--umask'],
    section: 'Server socket',
    doc: 'File mode mask (octal, e.g. 027) for files corral creates: unix socket binds, the pid file, log files; none = keep the inherited umask.',
    notes:
      "Set on the master at start and inherited by its workers. A unix socket bind gets mode 0777 minus the mask (Gunicorn's behaviour): `--umask 007` lets the socket's owner and group connect (e.g. a web server in that group), `--umask 077` only its owner. Gunicorn's default is 0 (world-connectable sockets); corral keeps the inherited umask unless you set one. The control socket is always 0600.",
    defaultText: 'none',
  }),
  keepAlive: setting({
    type: seconds(0),
    default: 5,
    flags: ['--keep-alive'],
    section: 'Server socket',
    doc: 'Seconds an idle keep-alive connection is held open; 0 disables keep-alive.',
  }),
  user: setting({
    type: optionalText('USER'),
    default: null,
    flags: ['-u', '--user'],
    section: 'Worker processes',
    doc: "Run workers as this user (name or numeric uid); the master binds first and stays root, as Gunicorn's does. Needs root.",
    notes:
      'Workers are started with this uid and gid (supplementary groups dropped), so the app never runs as root; log files and unix sockets corral creates are given to them. In single-process mode (`-w 0`) the one process binds, then drops to the user before loading the app. Takes effect on restart, not HUP. Given without root, it is accepted only when it names the current user.',
  }),
  group: setting({
    type: optionalText('GROUP'),
    default: null,
    flags: ['-g', '--group'],
    section: 'Worker processes',
    doc: "Run workers with this group (name or numeric gid); by default the --user's primary group.",
  }),
  certfile: setting({
    type: optionalText('FILE'),
    default: null,
    flags: ['--certfile'],
    section: 'Server socket',
    doc: 'TLS certificate (PEM, chain after the leaf); with --keyfile, workers serve HTTPS.',
    notes:
      'Read when each worker boots, so a HUP (which rolls the workers) picks up a renewed certificate; in single-process mode a HUP re-reads it in place. A file that cannot be read or parsed stops the start, and makes a HUP fail with nothing changed. See docs/tls.md.',
  }),
  keyfile: setting({
    type: optionalText('FILE'),
    default: null,
    flags: ['--keyfile'],
    section: 'Server socket',
    doc: 'TLS private key (PEM) for --certfile.',
  }),
  caCerts: setting({
    type: optionalText('FILE'),
    default: null,
    flags: ['--ca-certs'],
    section: 'Server socket',
    doc: 'CA certificates (PEM) client certificates are checked against (see --cert-reqs).',
  }),
  certReqs: setting({
    type: certReqsType,
    default: 'none',
    flags: ['--cert-reqs'],
    section: 'Server socket',
    doc: "Client certificates: none (0, Gunicorn's CERT_NONE), optional (1: asked for, checked when given) or required (2: a client without a valid one is refused in the handshake).",
  }),
  ciphers: setting({
    type: optionalText('CIPHERS'),
    default: null,
    flags: ['--ciphers'],
    section: 'Server socket',
    doc: "OpenSSL cipher list for TLS 1.2 and older; unset = Node's default.",
  }),
  httpProtocols: setting({
    type: list(httpProtocolType),
    default: ['h1'],
    flags: ['--http-protocols'],
    section: 'Server socket',
    doc: 'HTTP versions served, comma-separated: h1, h2 (HTTP/2 over TLS, chosen by ALPN, HTTP/1.1 for the rest), h2c (cleartext HTTP/2 with prior knowledge).',
    notes:
      '`h2` needs --certfile/--keyfile; `h2c` is cleartext only. `h1,h2c` serves both on one port: a connection that opens with the HTTP/2 preface is HTTP/2. See docs/tls.md.',
  }),
  http2: setting({
    type: boolean(),
    default: false,
    flags: ['--http2'],
    section: 'Server socket',
    doc: 'Shorthand: add h2 to --http-protocols (HTTP/2 over TLS, HTTP/1.1 fallback).',
  }),
  limitRequestLine: setting({
    type: integer(0, REQUEST_LIMIT_MAX.line),
    default: 4094,
    flags: ['--limit-request-line'],
    section: 'Security',
    doc: `Longest request line (method, target and version) in bytes; longer gets 414. 0 = the hard maximum, ${REQUEST_LIMIT_MAX.line}.`,
    notes:
      "Gunicorn's default and meaning. See docs/limits.md for every limit, the status each answer gets and how they compare with Gunicorn's.",
  }),
  limitRequestFields: setting({
    type: integer(0, REQUEST_LIMIT_MAX.fields),
    default: 100,
    flags: ['--limit-request-fields'],
    section: 'Security',
    doc: `Most header fields in a request; more gets 431. 0 = the hard maximum, ${REQUEST_LIMIT_MAX.fields}.`,
  }),
  limitRequestFieldSize: setting({
    type: integer(0, REQUEST_LIMIT_MAX.fieldSize),
    default: 8190,
    flags: ['--limit-request-field-size', '--limit-request-field_size'],
    section: 'Security',
    doc: `Longest header field (\`name: value\`) in bytes; longer gets 431. 0 = the hard maximum, ${REQUEST_LIMIT_MAX.fieldSize}.`,
    notes: `\`--limit-request-field_size\` is accepted as Gunicorn spells it. The whole request head is also capped at line + fields × field size, and never more than ${REQUEST_LIMIT_MAX.head / 2 ** 20} MiB.`,
  }),
  limitRequestBody: setting({
    type: size(),
    default: 100 * 2 ** 20,
    flags: ['--limit-request-body'],
    section: 'Security',
    doc: 'Largest request body; larger gets 413, by Content-Length before the app runs, or as a chunked body passes it. 0 = unlimited.',
    notes:
      "Not one of Gunicorn's three request limits. 100 MiB (about what Cloudflare's free and Pro plans accept) lets ordinary uploads through, while a client cannot stream an endless body into an app that buffers it; body parsers (Express's, Fastify's) keep their own, smaller limits for the bodies they parse.",
    defaultText: '100MiB',
  }),
  headerTimeout: setting({
    type: seconds(0),
    default: 10,
    flags: ['--header-timeout'],
    section: 'Security',
    doc: "A request's whole head must arrive within this many seconds of its first byte (or of the connection opening); else 408 and the connection is closed. 0 = off.",
    notes:
      'Stops slowloris clients that trickle a header a byte at a time, and connections that open and send nothing. An honest head is one or two packets. Checked every second (a quarter of the timeout, if less): a slow client is answered within the timeout plus two checks.',
  }),
  bodyTimeout: setting({
    type: seconds(0),
    default: 300,
    flags: ['--body-timeout'],
    section: 'Security',
    doc: 'A whole request, head and body, must arrive within this many seconds; else 408 (or the connection closed, if the response has started). 0 = off.',
    notes:
      "Node's `requestTimeout`, with Node's default: a 100 MiB upload needs about 350 KB/s to make it. It bounds receiving only: a slow response is `--request-timeout`'s business. Never shorter than `--header-timeout`.",
  }),
  forwardedAllowIps: setting({
    type: trustList,
    default: ['127.0.0.1', '::1'],
    flags: ['--forwarded-allow-ips'],
    env: ['FORWARDED_ALLOW_IPS'],
    section: 'Server socket',
    doc: 'Peers (proxies) whose X-Forwarded-For, Forwarded and secure scheme headers are believed; empty = none.',
    notes:
      'IPv4-mapped IPv6 peers (`::ffff:127.0.0.1`) match their IPv4 address. A unix-socket peer is trusted unless the list is empty. The client is the right-most untrusted address in the forwarded chain; see docs/proxies.md.',
  }),
  secureSchemeHeaders: setting({
    type: stringMap(),
    default: {
      'X-FORWARDED-PROTOCOL': 'ssl',
      'X-FORWARDED-PROTO': 'https',
      'X-FORWARDED-SSL': 'on',
    },
    flags: ['--secure-scheme-headers'],
    section: 'Server socket',
    doc: 'Headers a trusted proxy sets to say the client used HTTPS, with the value that means so; `none` = no such headers.',
    notes:
      "Gunicorn's `secure_scheme_headers` (an object in a config file). A header with any other value means http; two of them disagreeing is answered 400.",
  }),
  proxyProtocol: setting({
    type: proxyProtocolType,
    default: 'off',
    flags: ['--proxy-protocol'],
    section: 'Server socket',
    doc: 'Read a PROXY protocol header (HAProxy, AWS NLB) at the start of each connection: v1, v2, auto (either, or none), off.',
    notes:
      'With v1 or v2 every connection must start with that header, and only peers in `proxy-allow-from` may connect; with auto a header is optional but still only accepted from them. Refused connections are closed with a log line. See docs/proxies.md.',
  }),
  proxyAllowFrom: setting({
    type: trustList,
    default: ['127.0.0.1', '::1'],
    flags: ['--proxy-allow-from'],
    section: 'Server socket',
    doc: 'Peers allowed to send a PROXY protocol header; empty = none.',
    notes:
      'Same forms as `forwarded-allow-ips`. A unix-socket peer is allowed unless the list is empty.',
  }),
  workers: setting({
    type: workersType,
    default: 'auto',
    flags: ['-w', '--workers'],
    env: ['WEB_CONCURRENCY'],
    section: 'Worker processes',
    doc: 'Number of worker processes, or a strategy that computes it from the usable CPUs and memory: auto, cpu, io, conservative, memory. 0 serves from the master alone.',
    notes:
      'cpu = usable CPUs; io = 2 × CPUs + 1; conservative = max(2, ⌊0.5 × CPUs⌋); memory = the io count lowered until the workers fit the memory budget, using the measured RSS of one worker of this app; auto = cpu for async and sync workers, lowered to the memory fit when memory is tight. Usable CPUs come from the cgroup quota, the cpuset and the scheduler affinity, whichever is smallest. A fixed number is taken as given. `corral config --explain` shows the derivation; docs/sizing.md explains each strategy.',
    defaultText: 'auto',
  }),
  workersPerCore: setting({
    type: decimal(0, 64, { exclusiveMin: true, meta: 'FACTOR' }),
    default: 1,
    flags: ['--workers-per-core'],
    section: 'Worker processes',
    doc: 'Scales the CPU term of the cpu, io, conservative and memory strategies (and auto): e.g. 0.25, 0.5, 0.75.',
  }),
  minWorkers: setting({
    type: integer(1, 4096),
    default: 1,
    flags: ['--min-workers'],
    section: 'Worker processes',
    doc: 'Lowest worker count a strategy may give (a fixed --workers number is taken as given).',
    notes:
      'The memory fit can still go below it: starting workers that do not fit the memory limit only gets them killed by the OOM killer. The derivation says so when it happens.',
  }),
  maxWorkers: setting({
    type: optionalInteger(1, 4096),
    default: null,
    flags: ['--max-workers'],
    section: 'Worker processes',
    doc: 'Highest worker count a strategy may give; none = no cap (a fixed --workers number is taken as given).',
    defaultText: 'none',
  }),
  memoryMargin: setting({
    type: decimal(1, 10, { meta: 'FACTOR' }),
    default: 2.5,
    flags: ['--memory-margin'],
    section: 'Worker processes',
    doc: 'Memory sizing counts each worker as its measured private memory after boot times this factor, for what it grows to under load.',
    notes:
      'Measured (docs/benchmarks.md, Worker sizing): a compiled hello-sized worker grew from 16 MiB private at boot to 26–28 MiB warmed up and 39–42 MiB serving 256 concurrent connections (×2.5); at 1000 connections it reached 88 MiB. Growth follows concurrency more than app size, so a large app can take a smaller factor and a worker holding thousands of connections needs a larger one.',
  }),
  memoryReserve: setting({
    type: size(),
    default: 64 * 2 ** 20,
    flags: ['--memory-reserve'],
    section: 'Worker processes',
    doc: 'Memory sizing keeps this much of the memory limit free, besides the master, for the kernel, page cache and spikes.',
    defaultText: '64MiB',
  }),
  single: setting({
    type: boolean(),
    default: false,
    flags: ['--single'],
    section: 'Worker processes',
    doc: 'Serve the app in the master process with no workers (same as `-w 0`).',
  }),
  workerClass: setting({
    type: workerClassType,
    default: 'async',
    flags: ['-k', '--worker-class'],
    section: 'Worker processes',
    doc: "async: many requests at once on each worker's event loop; sync: one request at a time per worker, new requests go to an idle worker; thread: --threads copies of the app per worker, on JavaScript threads.",
    notes:
      "Gunicorn's gevent, eventlet, tornado, uvicorn and asgi are accepted as aliases of async and gthread of thread, with a notice. `sync` closes the connection after each response (no keep-alive, as Gunicorn's sync worker) and accepts only while idle (`--dispatch shared`; least-conn with `--queue-timeout`). `thread` gives each thread its own SO_REUSEPORT socket (TCP binds only), so it uses `--dispatch reuseport`. See docs/worker-classes.md.",
  }),
  threads: setting({
    type: integer(1, 256),
    default: 1,
    flags: ['--threads'],
    env: ['THREADS'],
    section: 'Worker processes',
    doc: 'Threads per worker for the thread class: each runs its own copy of the app on a worker_thread. More than 1 with the default class selects thread.',
  }),
  workerConnections: setting({
    type: integer(1, 1_000_000),
    default: 10_000,
    flags: ['--worker-connections'],
    section: 'Worker processes',
    doc: 'Most connections one async worker holds at once; more wait for a free slot (in the kernel queue, or unread in the master with least-conn) and are never reset.',
    notes:
      "At its cap a worker stops accepting and closes keep-alive connections idle for a second, so waiting clients get a turn; clients it is serving keep their keep-alive. Gunicorn's 1000 is a number for Python's gevent: a Node event loop holds ten thousand idle connections in about 40 MiB (docs/benchmarks.md), so long-lived clients (server-sent events, WebSockets) are not kept waiting on default settings. Enforced with `shared` (the default) and `least-conn`; with `reuseport` the kernel queues on each worker's own socket and the cap does not apply.",
  }),
  timeout: setting({
    type: seconds(0),
    default: 30,
    flags: ['-t', '--timeout'],
    section: 'Worker processes',
    doc: 'A worker silent this many seconds (its event loop is blocked) is killed and replaced; 0 = off.',
  }),
  bootTimeout: setting({
    type: seconds(0),
    default: 60,
    flags: ['--boot-timeout'],
    section: 'Worker processes',
    doc: 'A worker not ready this many seconds after it was started (its app is still loading) is killed; 0 = wait forever.',
    notes:
      '`--timeout` catches a blocked event loop; this catches an app whose start-up never finishes without blocking one (a connection it awaits that never comes). At start, three such workers in a row stop corral (exit 3); once serving, the running workers keep serving and the error is logged.',
  }),
  queueTimeout: setting({
    type: seconds(0),
    default: 0,
    flags: ['--queue-timeout'],
    section: 'Worker processes',
    doc: 'A connection that waited this many seconds in corral for a free worker is answered `503 Service Unavailable` with `Retry-After` and closed, instead of hanging; 0 = off (it waits).',
    notes:
      "Load shedding at the door: counted in /metrics (`corral_connections_shed_total`) and logged at most once every 10 s. It applies where connections wait in the master: with `--dispatch least-conn`, which the sync class then picks by itself, when every worker is busy or at its cap. With `shared` (the default) connections beyond every worker's cap wait in the kernel's accept queue, where corral counts them (`corral_waiting_connections`) but cannot time them; a notice says so at start. Over TLS the master cannot write an answer: the connection is closed. uWSGI and Granian only stop accepting.",
  }),
  gracefulTimeout: setting({
    type: seconds(0),
    default: 30,
    flags: ['--graceful-timeout'],
    section: 'Worker processes',
    doc: 'On graceful stop or recycle, seconds to let in-flight requests finish before a worker is killed.',
  }),
  requestTimeout: setting({
    type: seconds(0),
    default: 0,
    flags: ['--request-timeout'],
    section: 'Worker processes',
    doc: 'A request still running after this many seconds gets a 503 (or its connection closed, if the response had started); the worker keeps serving. 0 = off.',
    notes:
      "Unlike `--timeout`, this is per request: the worker's other requests are not affected. Off by default because streaming responses (SSE, long polling) legitimately run long; set it to what the slowest honest request may take.",
  }),
  shutdownDelay: setting({
    type: seconds(0),
    default: 0,
    flags: ['--shutdown-delay'],
    section: 'Worker processes',
    doc: 'On SIGTERM, keep serving (reporting not ready) this many seconds before draining, so load balancers stop sending traffic first.',
    notes:
      'For Kubernetes, this replaces a `preStop: sleep` hook: the endpoint is removed while corral still answers. Keep `shutdownDelay + gracefulTimeout` below `terminationGracePeriodSeconds`.',
  }),
  maxWorkerMemory: setting({
    type: size(),
    default: 0,
    flags: ['--max-worker-memory'],
    section: 'Worker processes',
    doc: 'Recycle a worker whose resident memory (RSS) reaches this size, replacement first; 0 = off.',
    notes:
      'The worker checks its own RSS as it answers requests (every 16 requests, every request once it is within 10% of the limit) and at the limit asks to be replaced and stops taking new connections, so a fast leak does not carry it far past the limit; the master also checks each heartbeat.',
  }),
  maxRequests: setting({
    type: integer(0),
    default: 0,
    flags: ['--max-requests'],
    section: 'Worker processes',
    doc: 'Recycle a worker after it has served this many requests; 0 = never.',
  }),
  maxRequestsJitter: setting({
    type: integer(0),
    default: 0,
    flags: ['--max-requests-jitter'],
    section: 'Worker processes',
    doc: "Add random(0..N) to each worker's max-requests, so workers do not all recycle at once.",
  }),
  maxWorkerLifetime: setting({
    type: seconds(0),
    default: 0,
    flags: ['--max-worker-lifetime'],
    section: 'Worker processes',
    doc: 'Recycle a worker after it has served this many seconds, replacement first; 0 = never.',
    notes:
      'For apps that degrade with age (caches that only grow, connection pools that go stale). Each worker gets `max-worker-lifetime + random(0..max-worker-lifetime-jitter)`, so workers started together do not all recycle at once. See docs/lifecycle.md.',
  }),
  maxWorkerLifetimeJitter: setting({
    type: seconds(0),
    default: 0,
    flags: ['--max-worker-lifetime-jitter'],
    section: 'Worker processes',
    doc: "Add random(0..N) seconds to each worker's max-worker-lifetime.",
  }),
  maxEventLoopDelay: setting({
    type: { ...integer(0), meta: 'MS' },
    default: 0,
    flags: ['--max-event-loop-delay'],
    section: 'Worker processes',
    doc: 'Replace a worker (replacement first) whose event-loop delay (p99 between heartbeats) stays above this many milliseconds for 3 heartbeats in a row; 0 = off.',
    notes:
      'A worker that still answers but slowly (a CPU-heavy leak, a fragmented heap) never trips `--timeout`; this replaces it before its clients notice. Set it well above what your slowest honest synchronous work takes.',
  }),
  reloadCanary: setting({
    type: seconds(0),
    default: 0,
    flags: ['--reload-canary'],
    section: 'Worker processes',
    doc: 'On reload (HUP, `--reload`, `ctl reload`), start one new worker first and let it serve beside the old ones this many seconds; roll back if it crashes, times out or answers clearly more 5xx. 0 = off.',
    notes:
      'Rolled back when the canary exits or times out within the window, or once it has answered at least 5 responses with 5xx and its 5xx share is more than 10 percentage points above the old workers\' over the same time. It is judged on each of its heartbeats (every 50 ms during the window); a canary that got fewer than 10 requests in its window (keep-alive clients stay with the old workers) is given up to five windows, then passes with a note in the log. A rollback stops the canary, keeps the old workers and the old settings, logs `reload rolled back` with the evidence, and counts `corral_worker_restarts_total{reason="rollback"}`. See docs/lifecycle.md.',
  }),
  accessLogfile: setting({
    type: optionalText('FILE'),
    default: null,
    flags: ['--access-logfile'],
    section: 'Logging',
    doc: 'Write an access log line per request to this file; `-` = stdout. Off by default.',
  }),
  accessLogformat: setting({
    type: text('FORMAT'),
    default: GUNICORN_ACCESS_FORMAT,
    flags: ['--access-logformat'],
    section: 'Logging',
    doc: "Access log format in Gunicorn's atoms, e.g. `%(h)s %(r)s %(s)s %(M)s`, or `json` for one pino-shaped JSON object per line.",
    notes:
      "Atoms: h remote address, l `-`, u user (basic auth), t time, r request line, m method, U path, q query, H protocol, s status, B/b response length (b: `-` for 0), f referer, a user agent, T seconds, M milliseconds, D microseconds, L decimal seconds, p pid, `{name}i` request header, `{name}o` response header, `{name}e` environment variable. `json` writes pino's fields (level, time, pid, hostname, msg) and pino-http's (req, res, responseTime); see docs/logging.md.",
  }),
  errorLogfile: setting({
    type: text('FILE'),
    default: '-',
    flags: ['--error-logfile', '--log-file'],
    section: 'Logging',
    doc: 'Write the error log to this file; `-` = stderr.',
  }),
  logLevel: setting({
    type: logLevelType,
    default: 'info',
    flags: ['--log-level'],
    section: 'Logging',
    doc: "Lowest level written to the error log: Gunicorn's debug, info, warning, error, critical, or pino's trace, debug, info, warn, error, fatal.",
    notes:
      'warn and warning are the same level, as are fatal and critical. In the JSON format each line carries the level as pino numbers it: trace 10, debug 20, info 30, warn 40, error 50, fatal 60.',
  }),
  logFormat: setting({
    type: logFormatType,
    default: 'text',
    flags: ['--log-format'],
    section: 'Logging',
    doc: "The error log's format: text (Gunicorn's `[time] [pid] [LEVEL] [worker 1] message` lines) or json (one pino-shaped object per line).",
    notes:
      'json writes `{"level":40,"time":1733392800000,"pid":4242,"hostname":"web-1","role":"worker 1","msg":"…"}`: pino\'s fields, its level numbers and epoch-millisecond time, so pino-pretty and log shippers that read pino read it; `role` says which process spoke. The access log has its own format (`--access-logformat json`); see docs/logging.md.',
  }),
  envFile: setting({
    type: list(text('FILE'), { splitOn: null }),
    default: [],
    flags: ['--env-file'],
    section: 'Config',
    doc: "Read environment variables from this file (Node's .env format; repeatable, later files win) for corral and the app.",
    notes:
      'Parsed as `node --env-file` parses it (`util.parseEnv`). Variables already in the environment win over the files, as with Node. Files named on the command line or in `CORRAL_ENV_FILE` are read before the settings are, so `CORRAL_*`, `PORT` and `WEB_CONCURRENCY` in them count; a file named in the config file reaches the app only. A missing file stops the start with its name.',
  }),
  metricsBind: setting({
    type: optionalText('ADDRESS'),
    default: null,
    flags: ['--metrics-bind'],
    section: 'Observability',
    doc: 'Serve Prometheus /metrics, /healthz and /readyz from the master on this address (e.g. 127.0.0.1:9100). Off by default.',
    notes:
      'Answered by the master, so probes never queue behind busy workers. `/readyz` is 503 while starting, during `--shutdown-delay` and while stopping. Keep it on loopback or a private interface.',
  }),
  controlSocket: setting({
    type: optionalText('PATH'),
    default: null,
    flags: ['--control-socket', '--socket'],
    section: 'Observability',
    doc: 'Unix socket (mode 0600) for `corral ctl status|reload|scale N|stop` and `corral top`.',
  }),
  reload: setting({
    type: boolean(),
    default: false,
    flags: ['--reload', '--watch'],
    section: 'Development',
    doc: "Development: when a source file in the app's directory changes, roll every worker (as HUP does) so they load the new code.",
    notes:
      "The app's directory is watched recursively, except `node_modules` and `.git`; changes to module files (`.js .mjs .cjs .ts .mts .cts .jsx .tsx .json`) count, other files only when named in `reload-extra-files`. The config file is watched too. Bursts of changes (a save, a build) make one reload. The roll is the HUP one: new workers first, no request lost, and a change that breaks the app leaves the running workers serving. Needs worker processes (not `-w 0`).",
  }),
  reloadExtraFiles: setting({
    type: list(text('PATH')),
    default: [],
    flags: ['--reload-extra-files', '--reload-extra-file'],
    section: 'Development',
    doc: 'With `--reload`, also reload when these files change (repeatable; comma-separated in env); a directory means every file in it.',
    notes:
      'For files the app reads when it starts that are not modules: templates, `.env`, certificates. `--reload-extra-file` is accepted as Gunicorn spells it.',
  }),
} as const;

export type Settings = typeof settings;
export type SettingName = keyof Settings;
type ValueOf<S> = S extends Setting<infer T, infer _In> ? T : never;
type InputOf<S> = S extends Setting<infer _T, infer In> ? In : never;
/** The resolved configuration: one typed value per setting. */
export type Config = { readonly [K in SettingName]: ValueOf<Settings[K]> };
/**
 * Settings as a config file or serve() may give them: each optional, in any form its parser
 * takes (`'512MiB'` for a size, one string or a list for a bind, Gunicorn's aliases).
 */
export type ConfigInput = { -readonly [K in SettingName]?: InputOf<Settings[K]> };

export const SETTING_NAMES = Object.keys(settings) as SettingName[];

/** `maxRequestsJitter` → `MAX_REQUESTS_JITTER` (used for `CORRAL_*`). */
export function envName(name: string): string {
  return `CORRAL_${name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

export function envNames(name: SettingName): string[] {
  return [envName(name), ...(settings[name].env ?? [])];
}
