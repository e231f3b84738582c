// A user's file compiled against the shipped dist/*.d.ts by the oldest TypeScript the package
// supports (5.0, package.json's typescript-5.0): a type only newer compilers know (such as the
// typed-array generics of TS 5.7, `Float32Array<ArrayBuffer>`) fails here. Run by
// test/types/dts.test.ts; never executed.
import {
  Adam, Dense, Embedding, FitStoppedError, GRU, LSTM, Sequential, SGD, cosineAnnealingLR, fitProgress, fromArray, info, losses,
  toArray, tensor, tokenStream, type BatchResult, type Dataset, type EpochInfo, type FitOptions, type History, type ParamRef, type Tensor,
} from 'fused-rnn';

export async function train(): Promise<number> {
  const model = new Sequential([new LSTM({ inputSize: 2, hiddenSize: 8, returnSequences: false }), new Dense({ units: 3 })]);
  const data: Dataset = { x: [[[0.1, 0.2], [0.3, 0.4]]], y: Int32Array.from([1]) };
  const opts: FitOptions = { epochs: 2, optimizer: new Adam({ lr: 1e-3 }), loss: { name: 'crossEntropy', fromLogits: true },
    verbose: 1, metrics: ['perplexity', { name: 'topK', k: 2 }], signal: AbortSignal.timeout(1000) };
  let h: History;
  try {
    h = await model.fit(data, opts);
  } catch (e) {
    if (e instanceof FitStoppedError) h = e.history;
    else throw e;
  }
  const last: EpochInfo | undefined = h.epochs.at(-1);
  const r: BatchResult = await model.trainOnBatch(data, { optimizer: new SGD({ lr: 0.1 }), loss: 'crossEntropy' });
  const params: ParamRef[] = model.parameters();
  const w: Float32Array = params[0].value;
  const t: Tensor = fromArray([[1, 2], [3, 4]]);
  const nested = toArray(tensor([1, 2], [2]));
  const l = losses.mse(t, [1, 2, 3, 4]).grad.data;
  const lm = new Sequential([new Embedding({ numEmbeddings: 5, embeddingDim: 4 }), new GRU({ inputSize: 4, hiddenSize: 4 }), new Dense({ units: 5 })]);
  await lm.fit(tokenStream([1, 2, 3, 4, 0, 1], { batchSize: 1 }), { epochs: 1, optimizer: new SGD({ lr: 1 }), loss: 'crossEntropy',
    bptt: { steps: 2, stateful: true }, shuffle: false, lrSchedule: cosineAnnealingLR({ tMax: 1 }) });
  for await (const out of model.predict({ async *[Symbol.asyncIterator]() { yield data; } })) console.log(out.shape);
  fitProgress(2, { epochs: 1 })?.close();
  return (last?.loss ?? 0) + r.loss + w[0] + l[0] + (Array.isArray(nested) ? nested.length : nested) + info().threads;
}
