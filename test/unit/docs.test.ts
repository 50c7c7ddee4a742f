// The guides: every relative link and anchor points at something that exists, and every config
// file they show loads with corral's own resolver (a renamed setting fails here, not for users).
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { resolveConfig } from '../../src/config/resolve.ts';
import { HOOK_NAMES } from '../../src/hooks.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MARKER = '<!-- docs test: this block is loaded as corral.config.ts';

function markdownFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'measurements' ? [] : markdownFiles(path);
    return e.name.endsWith('.md') ? [path] : [];
  });
}

const DOCS = [join(ROOT, 'README.md'), ...markdownFiles(join(ROOT, 'docs'))];
/** The reading path (README → index → guides → deployment → migration): its links must hold. */
const GUIDES = DOCS.filter((f) =>
  /(^README|docs\/(README|getting-started|configuration|lifecycle|logging|deploy\/.*|migrate\/.*))\.md$/.test(
    relative(ROOT, f),
  ),
);

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function anchors(markdown: string): Set<string> {
  const out = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const m = !fenced && /^#{1,6}\s+(.*)$/.exec(line);
    if (m) {
      out.add(
        (m[1] as string)
          .toLowerCase()
          .replace(/[^\p{L}\p{N}\s_-]/gu, '')
          .replace(/\s/g, '-'),
      );
    }
  }
  return out;
}

test('docs: every relative link and anchor in the guides resolves', () => {
  const broken: string[] = [];
  assert.ok(GUIDES.length >= 10, `${GUIDES.length} guides`);
  for (const file of GUIDES) {
    const text = readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '');
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (!target || /^[a-z]+:/.test(target)) continue;
      const [path, anchor] = target.split('#') as [string, string | undefined];
      const abs = path ? resolve(dirname(file), path) : file;
      const where = `${relative(ROOT, file)} → ${target}`;
      let exists = false;
      try {
        exists = statSync(abs) !== undefined;
      } catch {}
      if (!exists) {
        broken.push(`${where} (no such file)`);
      } else if (anchor && abs.endsWith('.md') && !anchors(readFileSync(abs, 'utf8')).has(anchor)) {
        broken.push(`${where} (no such heading)`);
      }
    }
  }
  assert.deepEqual(broken, []);
});

test('docs: the config files the guides show load, with their hooks', async () => {
  let blocks = 0;
  const index = join(ROOT, 'src/index.ts');
  for (const file of DOCS) {
    const text = readFileSync(file, 'utf8');
    for (const part of text.split(MARKER).slice(1)) {
      const code = /```ts\n([\s\S]*?)```/.exec(part)?.[1];
      assert.ok(code, `${relative(ROOT, file)}: a ts block follows the marker`);
      const dir = mkdtempSync(join(tmpdir(), 'corral-docs-'));
      writeFileSync(
        join(dir, 'corral.config.ts'),
        code.replace("from 'corral'", `from '${index}'`),
      );
      const r = await resolveConfig({ cwd: dir, env: {} });
      assert.equal(r.file, join(dir, 'corral.config.ts'));
      const named = [...code.matchAll(/^ {2}(\w+)[:(]/gm)].map((m) => m[1] as string);
      for (const name of named) {
        if ((HOOK_NAMES as readonly string[]).includes(name)) {
          assert.equal(typeof r.hooks[name as keyof typeof r.hooks], 'function', name);
        } else {
          assert.equal(
            r.sources[name as keyof typeof r.sources]?.kind,
            'file',
            `${name} is a setting`,
          );
        }
      }
      blocks++;
    }
  }
  assert.ok(blocks >= 3, `${blocks} config blocks checked`);
});

/** Gunicorn 26.1's settings (gunicorn/config.py), hooks included: 119. */
const GUNICORN = `config wsgi_app bind backlog workers worker_class threads worker_connections
max_requests max_requests_jitter timeout graceful_timeout keepalive asgi_loop asgi_lifespan
asgi_disconnect_grace_period http_parser limit_request_line limit_request_fields
limit_request_field_size reload reload_engine reload_extra_files spew check_config print_config
preload_app sendfile reuse_port chdir daemon raw_env pidfile worker_tmp_dir user group umask
initgroups tmp_upload_dir pythonpath paste raw_paste_global_conf secure_scheme_headers
forwarded_allow_ips proxy_protocol proxy_allow_ips protocol uwsgi_allow_ips forwarder_headers
header_map root_path permit_obsolete_folding strip_header_spaces
permit_unconventional_http_method permit_unconventional_http_version casefold_http_method
accesslog access_log_format errorlog loglevel capture_output logger_class logconfig
logconfig_dict logconfig_json syslog syslog_addr syslog_prefix syslog_facility
disable_redirect_access_to_syslog enable_stdio_inheritance statsd_host statsd_prefix
dogstatsd_tags enable_backlog_metric proc_name default_proc_name keyfile certfile ca_certs
ssl_version cert_reqs suppress_ragged_eofs do_handshake_on_connect ciphers on_starting
on_reload when_ready pre_fork post_fork post_worker_init worker_int worker_abort pre_exec
pre_request post_request child_exit worker_exit nworkers_changed on_exit ssl_context
http_protocols http2_cleartext http2_max_concurrent_streams http2_initial_window_size
http2_max_frame_size http2_max_header_list_size dirty_apps dirty_workers dirty_timeout
dirty_threads dirty_graceful_timeout on_dirty_starting dirty_post_fork dirty_worker_init
dirty_worker_exit control_socket control_socket_mode control_socket_disable`.split(/\s+/);

/** PM2's ecosystem `apps[]` keys (lib/API/schema.json), by their main names. */
const PM2 = `script name name_prefix filter_env namespace install_url cwd args exec_interpreter
node_args out_file error_file log_file disable_logs log_type log_date_format time env
max_memory_restart pid_file restart_delay exp_backoff_restart_delay source_map_support
disable_source_map_support wait_ready instances kill_timeout shutdown_with_message
listen_timeout cron_restart merge_logs vizion autorestart watch_delay watch ignore_watch
watch_options min_uptime max_restarts execute_command exec_mode force append_env_to_name
post_update trace disable_trace v8 event_loop_inspector deep_monitoring increment_var
instance_var pmx automation treekill port username uid gid windowsHide kill_retry_time write
io`.split(/\s+/);

/** The names a guide's mapping tables (between two headings) mention as `code`. */
function mapped(file: string, from: string, to: string, names: readonly string[]): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const tables = text.slice(text.indexOf(from), text.indexOf(to));
  return names.filter((n) => !new RegExp(`\`${n}[\`:(]`).test(tables));
}

test('migration guides map every Gunicorn setting and every PM2 ecosystem key', () => {
  assert.equal(GUNICORN.length, 119);
  const gunicorn = mapped(
    'docs/migrate/gunicorn.md',
    '## Every setting',
    '## A `gunicorn.conf.py`',
    GUNICORN,
  );
  assert.deepEqual(gunicorn, []);
  assert.deepEqual(mapped('docs/migrate/pm2.md', '## Every `apps[]` key', '## Commands', PM2), []);
});
