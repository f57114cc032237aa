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
}

export function buildPathTrie(paths: ReadonlyMap<string, number>): TrieNode {
  const root: TrieNode = { keys: [], children: [], slot: -1 };
  for (const [path, slot] of paths) {
    let node = root;
    const parts = path.split('.');
    parts.forEach((part, i) => {
      const key = Buffer.from(part, 'utf8');
      let index = node.keys.findIndex((k) => k.equals(key));
      if (index < 0) {
        node.keys.push(key);
        node.children.push({ keys: [], children: [], slot: -1 });
        index = node.keys.length - 1;
      }
      node = node.children[index];
      if (i === parts.length - 1) node.slot = slot;
    });
  }
  return root;
}
