import { createHash } from 'node:crypto';

const LANES = 4;

/**
 * An order-free digest of a set of file hashes: each hash adds its first 128 bits, lane by lane,
 * so one changed file updates the code id without visiting the others. Each file hash already
 * covers the file's path, so moving content between files changes the sum too. Anything that
 * starts with the base64 hash will do (a packed file state does).
 */
export class CodeSum {
  private readonly lanes = new Uint32Array(LANES);
  private count = 0;

  clone(): CodeSum {
    const c = new CodeSum();
    c.lanes.set(this.lanes);
    c.count = this.count;
    return c;
  }

  add(hash: string): void {
    this.count++;
    const b = lanesOf(hash);
    for (let i = 0; i < LANES; i++) this.lanes[i] = this.lanes[i]! + b.readUInt32BE(i * 4);
  }

  remove(hash: string): void {
    this.count--;
    const b = lanesOf(hash);
    for (let i = 0; i < LANES; i++) this.lanes[i] = this.lanes[i]! - b.readUInt32BE(i * 4);
  }

  /** Ten hex digits, like a short git commit id. */
  get id(): string {
    return createHash('sha1').update(`${this.count}:${this.lanes.join(':')}`).digest('hex').slice(0, 10);
  }
}

/** The first 18 bytes of a base64 hash (its first 24 characters): enough for the lanes. */
function lanesOf(hash: string): Buffer {
  return Buffer.from(hash.slice(0, 24), 'base64');
}
