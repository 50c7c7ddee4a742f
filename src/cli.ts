/**
 * argv → command. Every failure ends in one line on stderr and a non-zero exit code.
 * Each command's modules are imported only when that command runs: `--help` and `--version`
 * load the settings table and nothing else (the master, metrics and sizing code would
 * double their start time; measured in docs/benchmarks.md).
 */
import { resolve } from 'node:path';
import { commandHelp, helpText } from './commands/help.ts';
import { parseCommandLine } from './config/argv.ts';
import { envName } from './config/settings.ts';
import { CorralError, EXIT } from './errors.ts';
import { VERSION } from './version.ts';

export async function main(argv: readonly string[]): Promise<number> {
  const cl = parseCommandLine(argv);
  if (cl.help) {
    process.stdout.write(`${cl.named ? commandHelp(cl.command) : helpText()}\n`);
    return EXIT.OK;
  }
  if (cl.version) {
    process.stdout.write(`corral ${VERSION}\n`);
    return EXIT.OK;
  }
  // Env files named here or in CORRAL_ENV_FILE are read before the settings: CORRAL_*, PORT
  // and WEB_CONCURRENCY in them count. (One named in the config file reaches the app only.)
  const envFiles = cl.values.filter((v) => v.name === 'envFile').map((v) => String(v.raw));
  const envFileVar = process.env[envName('envFile')];
  if (envFiles.length || envFileVar) {
    const { applyEnvFiles } = await import('./config/env-file.ts');
    applyEnvFiles(envFiles.length ? envFiles : [envFileVar as string], process.env, process.cwd());
  }
  const { resolveConfig } = await import('./config/resolve.ts');
  const input = {
    cli: cl.values,
    app: cl.app,
    args: cl.scriptArgs,
    env: process.env,
    cwd: process.cwd(),
  };
  const resolved = await resolveConfig(input);
  switch (cl.command) {
    case 'config': {
      const { configReport, explainConfig, formatConfig } = await import('./commands/config.ts');
      const { sizeForConfig } = await import('./sizing/workers.ts');
      // Size as serve would: workers run in --chdir's directory.
      const cwd = resolve(process.cwd(), resolved.config.chdir ?? '.');
      const sizing = await sizeForConfig(resolved.config, { cwd, env: process.env });
      process.stdout.write(
        cl.json
          ? `${JSON.stringify(configReport(resolved, sizing), null, 2)}\n`
          : `${cl.explain ? explainConfig(resolved, sizing) : formatConfig(resolved, sizing)}\n`,
      );
      return EXIT.OK;
    }
    case 'check': {
      const { check } = await import('./commands/check.ts');
      // The app ran here: its server and timers would keep this process alive, so exit.
      try {
        process.stdout.write(`${await check(resolved)}\n`);
      } catch (err) {
        failed(err, argv);
        process.exit();
      }
      process.exit(EXIT.OK);
      return EXIT.OK;
    }
    case 'ctl': {
      const { ctl } = await import('./commands/ctl.ts');
      process.stdout.write(`${await ctl(resolved.config.controlSocket, cl.args, cl.json)}\n`);
      return EXIT.OK;
    }
    case 'top': {
      const { top } = await import('./commands/top.ts');
      await top(resolved.config.controlSocket);
      return EXIT.OK;
    }
    case 'tune': {
      const { tune } = await import('./commands/tune.ts');
      return tune(resolved, cl);
    }
    case 'serve': {
      const { serve } = await import('./commands/serve.ts');
      // HUP re-reads everything from the same inputs; the config file is imported afresh.
      return serve(resolved, () => resolveConfig({ ...input, fresh: true }));
    }
  }
}

/**
 * A failure before the error log exists still speaks the log's format: a JSON line when
 * `--log-format json` (or CORRAL_LOG_FORMAT=json) was asked for.
 */
function fail(message: string, argv: readonly string[]): void {
  const i = argv.findIndex((a) => a === '--log-format' || a.startsWith('--log-format='));
  const asked = i < 0 ? process.env[envName('logFormat')] : (argv[i]?.split('=')[1] ?? argv[i + 1]);
  const line =
    asked?.trim().toLowerCase() === 'json'
      ? JSON.stringify({
          level: 60,
          time: Date.now(),
          pid: process.pid,
          role: 'master',
          msg: message,
        })
      : message;
  process.stderr.write(`${line}\n`);
}

/** One line on stderr and the exit code for an error. */
function failed(err: unknown, argv: readonly string[]): void {
  if (err instanceof CorralError) {
    fail(err.message, argv);
    process.exitCode = err.exitCode;
  } else {
    fail(`corral: internal error: ${(err as Error)?.stack ?? err}`, argv);
    process.exitCode = EXIT.FAILURE;
  }
}

const argv = process.argv.slice(2);
main(argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => failed(err, argv),
);
