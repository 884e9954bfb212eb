import { randomBytes } from 'node:crypto';
import type { ProcId } from './types.js';

/**
 * Every process devsup spawns gets an unguessable token in this variable, and whatever it forks or
 * execs inherits it: through a double fork and `setsid` a daemon leaves the parent chain and the
 * process group, but not its environment. Stopping a tree also stops every process of the user
 * that holds the token (see sweep.ts). A devsup running inside a devsup-run process keeps the
 * outer tokens after its own, so the outer stop still reaches the inner trees.
 */
export const TOKEN_VAR = 'DEVSUP_TREE_TOKEN';

/** 128 random bits: nobody can make a process of theirs look like part of a tree by guessing. */
export function newToken(): string {
  return randomBytes(16).toString('hex');
}

/** The variable's value for a child holding `token`, keeping tokens inherited from an outer tree. */
export function tokenValue(token: string, inherited = process.env[TOKEN_VAR]): string {
  const outer = (inherited ?? '').split(',').filter((t) => /^[0-9a-f]{32}$/.test(t) && t !== token);
  return [token, ...outer].join(',');
}

/**
 * The token of each tree spawned by this process, by its root's identity: a stop or a capture
 * that is given only the root finds it here. An entry is dropped once the tree is known to be
 * gone; the cap keeps a long session that never says so from growing without bound.
 */
const tokens = new Map<string, string>();
const MAX_TOKENS = 4096;
const key = (id: ProcId): string => `${id.pid}:${id.start}`;

export function rememberToken(root: ProcId, token: string): void {
  tokens.delete(key(root));
  tokens.set(key(root), token);
  if (tokens.size > MAX_TOKENS) tokens.delete(tokens.keys().next().value!);
}

export function tokenOf(root: ProcId): string | undefined {
  return tokens.get(key(root));
}

export function forgetToken(root: ProcId): void {
  tokens.delete(key(root));
}
