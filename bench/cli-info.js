// What the built CLI offers: its command names (from `runlens --help`) and each command's help.
import { execFileSync } from 'node:child_process';
import { CLI, REPO_DIR } from './paths.js';

function helpText(args) {
  try {
    return execFileSync(process.execPath, [CLI, ...args, '--help'], { cwd: REPO_DIR, encoding: 'utf8' });
  } catch (error) {
    return String(error.stdout ?? '');
  }
}

/** { commands: string[], has(name), help(name) } for the CLI as built in dist/. */
export function cliInfo() {
  const top = helpText([]);
  const section = top.slice(top.indexOf('Commands:'));
  const commands = [...section.matchAll(/^ {2}([a-z][\w-]*)/gm)].map((match) => match[1]);
  const helps = new Map();
  return {
    commands,
    has: (name) => commands.includes(name),
    help: (name) => {
      if (!commands.includes(name)) return '';
      if (!helps.has(name)) helps.set(name, helpText([name]));
      return helps.get(name);
    },
  };
}
