import type { Command } from 'commander';
import { registerInspect } from './inspect.js';

/** Every CLI command: a function that adds itself to the program. One file per command. */
export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [registerInspect];
