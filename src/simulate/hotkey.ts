import type { Random } from './random.js';

const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

/** A 48-character ss58-style hotkey ("5..."), as Bittensor prints them. */
export function makeHotkey(random: Random): string {
  let key = '5';
  for (let i = 1; i < 48; i++) key += BASE58[random.int(58)];
  return key;
}
