// The model `fused-rnn train` builds for a task: Embedding -> recurrent layers -> Dense(vocabulary)
// for text, recurrent layers (last step) -> Dense(targets) for CSV windows.
import { Dense, Embedding, GRU, LSTM, RNN, Sequential } from '../index';
import type { Task } from './task';

export function buildModel(task: Task, seed: number): Sequential {
  const a = task.architecture;
  const Cell = a.cell === 'lstm' ? LSTM : a.cell === 'gru' ? GRU : RNN;
  if (task.kind === 'text') {
    const V = task.vocabulary.length;
    const E = a.embedding ?? Math.min(64, a.hidden);
    return new Sequential([
      new Embedding({ numEmbeddings: V, embeddingDim: E, seed }),
      new Cell({ inputSize: E, hiddenSize: a.hidden, numLayers: a.layers, seed: seed + 1 }),
      new Dense({ units: V, seed: seed + 2 }),
    ]);
  }
  return new Sequential([
    new Cell({ inputSize: task.inputs.length, hiddenSize: a.hidden, numLayers: a.layers, returnSequences: false, seed: seed + 1 }),
    new Dense({ units: task.targets.length, seed: seed + 2 }),
  ]);
}
