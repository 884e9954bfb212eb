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
    addLanes(this.lanes, hash, 1);
  }

  remove(hash: string): void {
    this.count--;
    addLanes(this.lanes, hash, -1);
  }

  /** Ten hex digits, like a short git commit id. */
  get id(): string {
    return createHash('sha1').update(`${this.count}:${this.lanes.join(':')}`).digest('hex').slice(0, 10);
  }
}

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const SIXTETS = new Uint8Array(128);
for (let i = 0; i < BASE64.length; i++) SIXTETS[BASE64.charCodeAt(i)] = i;

/**
 * Adds (sign 1) or subtracts (sign -1) the first 128 bits of a base64 hash, as four 32-bit lanes.
 * Decoded in place: a first start adds 100,000 hashes, and a buffer per hash is most of that cost.
 */
function addLanes(lanes: Uint32Array, hash: string, sign: number): void {
  let bits = 0;
  let held = 0;
  let lane = 0;
  let word = 0;
  let got = 0;
  for (let i = 0; lane < LANES; i++) {
    bits = (bits << 6) | SIXTETS[hash.charCodeAt(i) & 127]!;
    held += 6;
    while (held >= 8 && lane < LANES) {
      held -= 8;
      word = ((word << 8) | ((bits >>> held) & 0xff)) >>> 0;
      if (++got === 4) {
        lanes[lane] = lanes[lane]! + sign * word;
        lane++;
        got = 0;
        word = 0;
      }
    }
    bits &= (1 << held) - 1;
  }
}
