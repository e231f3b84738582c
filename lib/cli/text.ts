// Text <-> token ids for the language models `fused-rnn train` builds: characters, or words
// (runs of letters/digits, and each punctuation mark on its own) with a capped vocabulary.
export const UNKNOWN = '<unk>';

/** The tokens of a text, in order. */
export function tokenize(text: string, unit: 'char' | 'word'): string[] {
  return unit === 'char' ? Array.from(text) : text.match(/[\p{L}\p{N}'’]+|[^\s\p{L}\p{N}]/gu) ?? [];
}

/** The vocabulary: every character (sorted), or the `maxWords` most frequent words and '<unk>'. */
export function buildVocabulary(tokens: readonly string[], unit: 'char' | 'word', maxWords: number): string[] {
  const counts = new Map<string, number>();
  for (const t of tokens) counts.set(t, (counts.get(t) ?? 0) + 1);
  if (unit === 'char') return [...counts.keys()].sort();
  const kept = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, maxWords).map(([w]) => w);
  return [UNKNOWN, ...kept.filter((w) => w !== UNKNOWN)];
}

/** Token ids; characters the vocabulary lacks are an error (a char model cannot write them), words become '<unk>'. */
export function encode(tokens: readonly string[], vocabulary: readonly string[], unit: 'char' | 'word'): number[] {
  const index = new Map(vocabulary.map((t, i) => [t, i]));
  return tokens.map((t) => {
    const id = index.get(t) ?? (unit === 'word' ? index.get(UNKNOWN) : undefined);
    if (id === undefined) throw new Error(`the character ${JSON.stringify(t)} is not in the model's vocabulary`);
    return id;
  });
}

/** How a generated token is printed after the previous one: words get a space unless punctuation. */
export function joinToken(token: string, unit: 'char' | 'word', first: boolean): string {
  if (unit === 'char' || first) return token;
  return /^[.,;:!?)\]}'’]$/u.test(token) ? token : ` ${token}`;
}
