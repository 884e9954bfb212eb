import { createRequire } from 'node:module';
import type * as Commander from 'commander';

// commander is CommonJS: through require it skips the ESM wrapper and the scan of its exports,
// about 9 ms of every devsup start.
const commander = createRequire(import.meta.url)('commander') as typeof Commander;

export const { Argument, Command, Option, InvalidArgumentError, CommanderError } = commander;
export type Argument = Commander.Argument;
export type Command = Commander.Command;
export type Option = Commander.Option;
export type InvalidArgumentError = Commander.InvalidArgumentError;
export type CommanderError = Commander.CommanderError;
