import type { Socket } from 'node:net';
import type { SupervisorApi } from '../supervisor/api.js';
import { dispatch, errorOf, type SessionHooks } from './dispatch.js';
import { droppedSentence, OutputGate } from '../core/behind.js';
import { encodeEvent, encodeResponse, errorResponse, LineDecoder, MAX_LINE_BYTES, parseRequest } from './protocol.js';

/** A subscriber that stops reading is cut off once this much is queued for it, before it costs the supervisor memory. */
const MAX_QUEUED_BYTES = 16 * 1024 * 1024;
/** After an oversized line: time the client gets to read the error before the connection is dropped. */
const LINGER_MS = 2000;

export interface SessionOwner {
  api: SupervisorApi;
  /** Unfinished input held for all clients together goes up or down by `delta`; false past the budget. */
  account(delta: number): boolean;
  /** How long an unfinished line may wait for its next byte. */
  idleLineMs: number;
  subscribe(s: Session): void;
  unsubscribe(s: Session): void;
  hold(s: Session, holder: string): string;
  release(holdId: string): void;
  /** Releases every hold this session took. */
  releaseAll(s: Session): void;
  closed(s: Session): void;
}

/**
 * One client connection. Requests are handled as they arrive and answered when done, so a slow
 * waitFresh does not delay a snapshot asked for after it; the client matches answers by id.
 */
export class Session {
  private readonly decoder = new LineDecoder(MAX_LINE_BYTES);
  private readonly outputGate: OutputGate;
  private pending = 0;
  private inputEnded = false;
  private idleTimer: NodeJS.Timeout | undefined;
  private subscribed = false;
  readonly holds = new Set<string>();
  readonly gone: Promise<void>;

  constructor(
    readonly socket: Socket,
    private readonly owner: SessionOwner,
  ) {
    this.gone = new Promise((resolve) => socket.once('close', () => resolve()));
    this.outputGate = new OutputGate(socket, (worker, count) => {
      if (this.subscribed && socket.writable) socket.write(encodeEvent({ type: 'note', worker, message: droppedSentence(worker, count, 'sent: this client fell behind') }));
    });
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    // The client is done sending (or dead: a killed peer looks the same). It can no longer release its
    // holds, so they end here; answers still due are sent before our side closes.
    socket.on('end', () => {
      this.inputEnded = true;
      // A line without its newline can never be finished now.
      this.dropInput();
      this.owner.releaseAll(this);
      this.maybeEnd();
    });
    socket.on('error', () => undefined);
    socket.once('close', () => {
      this.subscribed = false;
      this.dropInput();
      this.owner.closed(this);
    });
  }

  private onData(chunk: Buffer): void {
    const before = this.decoder.pending;
    const lines = this.decoder.push(chunk);
    const within = this.owner.account(this.decoder.pending - before);
    for (const line of lines) {
      if (line.trim() !== '') this.handle(line);
    }
    if (this.decoder.overflow) {
      this.refuse('too-large', `request line longer than ${MAX_LINE_BYTES} bytes; closing the connection`);
    } else if (!within) {
      this.refuse('busy', 'the supervisor already holds too much unfinished input from its clients; closing the connection');
    } else {
      clearTimeout(this.idleTimer);
      this.idleTimer = undefined;
      // A half-sent line costs memory for as long as it waits: it may not wait for ever.
      if (this.decoder.pending > 0) {
        this.idleTimer = setTimeout(() => this.refuse('timeout', `no newline for ${this.owner.idleLineMs} ms; closing the connection`), this.owner.idleLineMs);
        this.idleTimer.unref();
      }
    }
  }

  /** Answers with an error, forgets the unfinished line, and closes once the client could read it. */
  private refuse(code: string, message: string): void {
    this.dropInput();
    // Whatever else it sends stays in the kernel's buffer and goes with the socket.
    this.socket.pause();
    if (this.socket.writableEnded) return;
    this.send(errorResponse(null, code, message));
    this.socket.end();
    setTimeout(() => this.socket.destroy(), LINGER_MS).unref();
  }

  private dropInput(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    this.owner.account(-this.decoder.pending);
    this.decoder.drop();
  }

  private handle(line: string): void {
    const parsed = parseRequest(line);
    if (!parsed.ok) {
      this.send(parsed.res);
      return;
    }
    const req = parsed.req;
    let out;
    try {
      out = dispatch(this.owner.api, req, this.hooks);
    } catch (err) {
      this.send({ v: 1, id: req.id, ok: false, error: errorOf(err) });
      return;
    }
    if (out instanceof Promise) {
      this.pending++;
      out.then(
        (result: unknown) => this.send({ v: 1, id: req.id, ok: true, result: result ?? {} }),
        (err: unknown) => this.send({ v: 1, id: req.id, ok: false, error: errorOf(err) }),
      ).finally(() => {
        this.pending--;
        this.maybeEnd();
      });
      return;
    }
    this.send({ v: 1, id: req.id, ok: true, result: out.value });
    out.after?.();
  }

  private readonly hooks: SessionHooks = {
    subscribe: () => {
      if (this.subscribed || this.socket.destroyed) return;
      this.subscribed = true;
      this.owner.subscribe(this);
    },
    hold: (holder) => {
      const id = this.owner.hold(this, holder);
      this.holds.add(id);
      return id;
    },
    release: (holdId) => {
      this.owner.release(holdId);
    },
  };

  private send(res: Parameters<typeof encodeResponse>[0]): void {
    if (!this.socket.writable) return;
    this.socket.write(encodeResponse(res));
  }

  /**
   * Called for every event while subscribed; the text is shared by all subscribers. A child's
   * output (`outputOf` names its worker) is dropped and counted while this client is behind, as
   * for `up --no-tui`: a flood would otherwise reach the cut-off below and end `logs -f` in silence.
   */
  pushEvent(text: string, outputOf?: string): void {
    if (!this.subscribed || !this.socket.writable) return;
    if (outputOf !== undefined && !this.outputGate.admit(outputOf)) return;
    this.socket.write(text);
    if (this.socket.writableLength > MAX_QUEUED_BYTES) {
      this.subscribed = false;
      this.owner.unsubscribe(this);
      this.socket.destroy();
    }
  }

  /** A client that half-closed gets its answers, then the end; a subscriber keeps its stream until it closes. */
  private maybeEnd(): void {
    if (this.inputEnded && this.pending === 0 && !this.subscribed && !this.socket.writableEnded) {
      this.socket.end();
    }
  }

  /** For the server's close: ask politely, then cut. */
  async end(graceMs: number): Promise<void> {
    this.socket.end();
    const t = setTimeout(() => this.socket.destroy(), graceMs);
    await this.gone;
    clearTimeout(t);
  }
}
