import { connectControl, type ControlClient } from '../../control/client.js';
import { findProjectRoot } from '../../state/paths.js';

/** The supervisor of the project around the current directory. */
export function connectFromCwd(name: string, appearWaitMs?: number): Promise<ControlClient> {
  return connectControl({ root: findProjectRoot(process.cwd(), name), name, appearWaitMs });
}

/** Runs `fn` on a fresh connection and always closes it, so the command can exit. */
export async function withClient<T>(name: string, fn: (c: ControlClient) => Promise<T>, appearWaitMs?: number): Promise<T> {
  const client = await connectFromCwd(name, appearWaitMs);
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}
