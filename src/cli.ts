/** argv → command. Every failure ends in one line on stderr and a non-zero exit code. */
import { resolve } from 'node:path';
import { check } from './commands/check.ts';
import { configReport, explainConfig, formatConfig } from './commands/config.ts';
import { ctl } from './commands/ctl.ts';
import { helpText } from './commands/help.ts';
import { serve } from './commands/serve.ts';
import { top } from './commands/top.ts';
import { tune } from './commands/tune.ts';
import { parseCommandLine } from './config/argv.ts';
import { resolveConfig } from './config/resolve.ts';
import { CorralError, EXIT } from './errors.ts';
import { sizeForConfig } from './sizing/workers.ts';
import { VERSION } from './version.ts';

export async function main(argv: readonly string[]): Promise<number> {
  const cl = parseCommandLine(argv);
  if (cl.help) {
    process.stdout.write(`${helpText()}\n`);
    return EXIT.OK;
  }
  if (cl.version) {
    process.stdout.write(`corral ${VERSION}\n`);
    return EXIT.OK;
  }
  const input = { cli: cl.values, app: cl.app, env: process.env, cwd: process.cwd() };
  const resolved = await resolveConfig(input);
  switch (cl.command) {
    case 'config': {
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
    case 'check':
      process.stdout.write(`${await check(resolved)}\n`);
      return EXIT.OK;
    case 'ctl':
      process.stdout.write(`${await ctl(resolved.config.controlSocket, cl.args, cl.json)}\n`);
      return EXIT.OK;
    case 'top':
      await top(resolved.config.controlSocket);
      return EXIT.OK;
    case 'tune':
      return tune(resolved, cl);
    case 'serve':
      // HUP re-reads everything from the same inputs; the config file is imported afresh.
      return serve(resolved, () => resolveConfig({ ...input, fresh: true }));
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof CorralError) {
      process.stderr.write(`${err.message}\n`);
      process.exitCode = err.exitCode;
    } else {
      process.stderr.write(`corral: internal error: ${(err as Error)?.stack ?? err}\n`);
      process.exitCode = EXIT.FAILURE;
    }
  },
);
