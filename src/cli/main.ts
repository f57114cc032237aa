import { Command, CommanderError } from 'commander';
import { isUserError } from '../errors.js';
import { removeTempsOnSignal } from '../temp-files.js';
import { commandName, loadCommands, type RegisterCommand } from './commands.js';
import { isBatchCommand } from './relaunch.js';

/** Builds the `runlens` program with the given commands (each lives in its own file). */
export function buildProgram(commands: RegisterCommand[]): Command {
  const program = new Command('runlens')
    .description('See what your validator or RL training run did, from its event logs, at any size.')
    .version('0.1.0')
    .option('--verbose', 'more detail, and stack traces on errors')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    // `--verbose` after the command name is taken by this program-wide option; hand it on to the
    // command's own options too, where the commands read it.
    .hook('preAction', (_program, command) => {
      if (program.opts().verbose) command.setOptionValue('verbose', true);
    });
  for (const register of commands) register(program);
  return program;
}

/** Runs the CLI; returns the process exit code. Errors print one clear message (stack only with --verbose). */
export async function main(argv: string[]): Promise<number> {
  process.env.TZ = 'UTC';
  const program = buildProgram(await loadCommands(commandName(argv)));
  const verbose = argv.includes('--verbose');
  // Batch commands remove their temporary databases and directories when interrupted (`serve`
  // and `tail` stop cleanly on a signal of their own accord).
  const dispose = isBatchCommand(commandName(argv)) ? removeTempsOnSignal() : undefined;
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.code === 'commander.helpDisplayed' || error.code === 'commander.version'
        ? 0
        : error.exitCode || 2;
    }
    if (isUserError(error)) {
      process.stderr.write(`runlens: ${error.message}\n`);
      if (error.hint) process.stderr.write(`  ${error.hint}\n`);
      if (verbose && error.stack) process.stderr.write(`${error.stack}\n`);
      return error.exitCode;
    }
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`runlens: unexpected error: ${message}\n`);
    const statement = error instanceof Error && 'statement' in error ? String(error.statement) : undefined;
    if (statement) process.stderr.write(`  in: ${statement}\n`);
    if (verbose && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
    else process.stderr.write('  run again with --verbose for details\n');
    return 1;
  } finally {
    dispose?.();
  }
}
