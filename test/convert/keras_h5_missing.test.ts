// Without the optional package jsfive, loadKerasWeights says which package to install.
import * as path from 'node:path';
import { it, expect, vi } from 'vitest';

vi.mock('jsfive', () => {
  throw new Error("Cannot find package 'jsfive'");
});

it('names the package to install when jsfive is missing', async () => {
  const { loadKerasWeights, Sequential, LSTM, Dense } = await import('../../lib/index');
  const model = new Sequential([new LSTM({ inputSize: 3, hiddenSize: 4 }), new Dense({ units: 2 })]);
  await expect(loadKerasWeights(model, path.join(__dirname, '..', 'fixtures', 'keras_h5', 'legacy_lstm_dense.h5')))
    .rejects.toThrow(/needs the optional package jsfive to read HDF5 \(npm install jsfive\)/);
});
