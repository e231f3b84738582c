// onnxruntime-node sessions behind fused-rnn's ModelServer: a ServeBackend (lib/serve/server.ts)
// for the bench's models as onnxBytes() exports them, so ORT gets the same micro-batching as ours.
'use strict';
const { StateLayout } = require('../../dist/index.js');

/** predict: x batch-first [B, T, I] -> time-major for ORT's x [T, B, I]; y [B, O]. */
class OrtPredictBackend {
  constructor(ort, session, I, O) {
    Object.assign(this, { ort, session, inputFeatures: I, outputFeatures: O, outputHasTime: false, stateLayout: null });
    this.tm = new Float32Array(0);
  }

  async predictBatch(x, B, T, lengths) {
    const I = this.inputFeatures;
    if (this.tm.length < T * B * I) this.tm = new Float32Array(T * B * I);
    const tm = this.tm.subarray(0, T * B * I);
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) tm.set(x.subarray((b * T + t) * I, (b * T + t + 1) * I), (t * B + b) * I);
    const r = await this.session.run({
      x: new this.ort.Tensor('float32', tm, [T, B, I]),
      sequence_lens: new this.ort.Tensor('int32', Int32Array.from(lengths), [B]),
    });
    return r.y.data;
  }

  stepBatch() { throw new Error('not a streaming model'); }
}

/** step: x [B, I], states h0.0, c0.0 [1, B, H] -> y [1, B, O], hN.0, cN.0. */
class OrtStepBackend {
  constructor(ort, session, I, H, O) {
    Object.assign(this, { ort, session, inputFeatures: I, outputFeatures: O, outputHasTime: false });
    this.H = H;
    this.stateLayout = new StateLayout([{ layer: 0, name: 'h', slots: 1, size: H }, { layer: 0, name: 'c', slots: 1, size: H }]);
  }

  predictBatch() { throw new Error('a streaming model'); }

  async stepBatch(x, B, states) {
    const { ort, H } = this;
    const r = await this.session.run({
      x: new ort.Tensor('float32', x, [1, B, this.inputFeatures]),
      'h0.0': new ort.Tensor('float32', states[0], [1, B, H]),
      'c0.0': new ort.Tensor('float32', states[1], [1, B, H]),
    });
    return { output: r.y.data, states: [r['hN.0'].data, r['cN.0'].data] };
  }
}

module.exports = { OrtPredictBackend, OrtStepBackend };
