import type { Command } from 'commander';

export function registerFlake(_program: Command): void {}
