import { connectControl, type ControlClient } from '../../control/client.js';
import { findProjectRoot } from '../../state/paths.js';

/** The supervisor of the project around the current directory. */
export function connectFromCwd(name: string): Promise<ControlClient> {
  return connectControl({ root: findProjectRoot(process.cwd(), name), name });
}

/** Runs `fn` on a fresh connection and always closes it, so the command can exit. */
export async function withClient<T>(name: string, fn: (c: ControlClient) => Promise<T>): Promise<T> {
  const client = await connectFromCwd(name);
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}
