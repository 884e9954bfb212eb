/**
 * Settles when `p` settles, whichever way, or `ms` from now, whichever comes first: for a wait
 * that must not hang on something that may never happen (a pipe another process holds open, a
 * burst of changes that never ends).
 */
export async function within(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((r) => (timer = setTimeout(r, ms)));
  try {
    await Promise.race([p.then(noop, noop), late]);
  } finally {
    clearTimeout(timer);
  }
}

const noop = (): void => undefined;
