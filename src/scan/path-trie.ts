/**
 * The dotted paths a scan extracts, as a trie of key bytes. Each leaf has a slot: the index of
 * its value in the scanner's output array. Several paths may share a slot (aliases, e.g. the old
 * flat RL key `x` and the nested `position.x`).
 */
export interface TrieNode {
  keys: Buffer[];
  children: TrieNode[];
  /** Output slot for a leaf, -1 for an inner node. */
  slot: number;
  /**
   * Indexes of the keys by their first byte (an empty key under the quote that ends it), so a
   * key in the record can be matched while its closing quote is found. Undefined when a key holds
   * a quote, backslash or control byte: those are matched the slow way, after the string's end.
   */
  byFirstByte: (number[] | undefined)[] | undefined;
}

export function buildPathTrie(paths: ReadonlyMap<string, number>): TrieNode {
  const root = newNode();
  for (const [path, slot] of paths) {
    let node = root;
    const parts = path.split('.');
    parts.forEach((part, i) => {
      const key = Buffer.from(part, 'utf8');
      let index = node.keys.findIndex((k) => k.equals(key));
      if (index < 0) {
        node.keys.push(key);
        node.children.push(newNode());
        index = node.keys.length - 1;
      }
      node = node.children[index];
      if (i === parts.length - 1) node.slot = slot;
    });
  }
  index(root);
  return root;
}

function newNode(): TrieNode {
  return { keys: [], children: [], slot: -1, byFirstByte: undefined };
}

function index(node: TrieNode): void {
  const plain = node.keys.every((key) => key.every((b) => b >= 0x20 && b !== 0x22 && b !== 0x5c));
  if (plain) {
    const table = new Array<number[] | undefined>(256).fill(undefined);
    node.keys.forEach((key, k) => (table[key.length ? key[0] : 0x22] ??= []).push(k));
    node.byFirstByte = table;
  }
  node.children.forEach(index);
}
