import type { Command } from 'commander';

export function registerControl(_program: Command): void {}
