import type { DevsupEvent } from './events.js';

export type Listener = (e: DevsupEvent) => void;

/**
 * A synchronous typed emitter. Listeners run in subscription order; one that throws is
 * removed from the dispatch of that event only, so a broken view cannot stop the core.
 */
export class Bus {
  private readonly listeners = new Set<Listener>();

  on(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(e: DevsupEvent): void {
    for (const l of [...this.listeners]) {
      try {
        l(e);
      } catch (err) {
        process.emitWarning(`event listener failed on ${e.type}: ${(err as Error).message}`);
      }
    }
  }
}
