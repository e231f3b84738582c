// Training with dropout between stacked layers (PyTorch's `dropout`): the layers run one at a
// time through single-layer native handles over the same weight and gradient buffers (layer l's
// parameters are one contiguous block, laid out as a one-layer network's), with inverted-dropout
// masks on each output but the last. Inference and dropout 0 keep the fused multi-layer call.
import { applyMask, dropoutMask } from '../../internal/random';
import { native, type NativeRnn, type Precision, type RnnBackwardArgs, type RnnForwardArgs } from '../../native';
import { toNativeConfig, numDirections, outputSize, type ResolvedConfig } from './config';

/** Everything one layer-by-layer training forward keeps for its backward. */
export interface LayerwiseRecord {
  T: number;
  B: number;
  /** Each layer's input (layer l > 0: the previous output after its mask). */
  inputs: Float32Array[];
  saved: Float32Array[];
  /** masks[l] scales layer l's output (0 or 1/(1-p)); none after the last layer. */
  masks: Float32Array[];
  lengths: Int32Array | null;
  h0: Float32Array | null;
  c0: Float32Array | null;
  /** The products' precision, for the backward too. */
  precision: Precision;
}

export interface LayerwiseForward {
  x: Float32Array;
  T: number;
  B: number;
  lengths: Int32Array | null;
  h0: Float32Array | null;
  c0: Float32Array | null;
  output: Float32Array;
  hN: Float32Array;
  cN: Float32Array | null;
  seed: number;
  precision: Precision;
}

export interface LayerwiseBackward {
  rec: LayerwiseRecord;
  dy: Float32Array | null;
  dhN: Float32Array | null;
  dcN: Float32Array | null;
  dx: Float32Array;
  dh0: Float32Array;
  dc0: Float32Array | null;
}

export class Layerwise {
  private readonly handles: NativeRnn[];
  /** [start, end) of each layer's parameters in the flat buffer. */
  private readonly blocks: [number, number][];

  constructor(private readonly config: ResolvedConfig, firstOffsets: number[]) {
    const D = numDirections(config), Hout = outputSize(config);
    this.handles = firstOffsets.map((_o, l) =>
      new native.NativeRnn(toNativeConfig({ ...config, numLayers: 1, inputSize: l === 0 ? config.inputSize : D * Hout })));
    this.blocks = firstOffsets.map((o, l) => [o, o + this.handles[l].paramCount()]);
  }

  private get L(): number { return this.config.numLayers; }
  private stateSize(B: number): number { return numDirections(this.config) * B * outputSize(this.config); }
  private cellSize(B: number): number { return numDirections(this.config) * B * this.config.hiddenSize; }

  forward(weights: Float32Array, f: LayerwiseForward): LayerwiseRecord {
    const rec = this.startRecord(f);
    for (let l = 0; l < this.L; l++) {
      const out = l === this.L - 1 ? f.output : new Float32Array(f.output.length);
      this.handles[l].forward(...this.forwardArgs(weights, f, rec, l, out));
      if (l < this.L - 1) rec.inputs.push(this.maskOutput(rec, out, f.seed, l));
    }
    return rec;
  }

  async forwardAsync(weights: Float32Array, f: LayerwiseForward): Promise<LayerwiseRecord> {
    const rec = this.startRecord(f);
    for (let l = 0; l < this.L; l++) {
      const out = l === this.L - 1 ? f.output : new Float32Array(f.output.length);
      await this.handles[l].forwardAsync(...this.forwardArgs(weights, f, rec, l, out));
      if (l < this.L - 1) rec.inputs.push(this.maskOutput(rec, out, f.seed, l));
    }
    return rec;
  }

  backward(weights: Float32Array, grads: Float32Array, b: LayerwiseBackward): void {
    let dy = b.dy;
    for (let l = this.L - 1; l >= 0; l--) {
      const dx = l === 0 ? b.dx : new Float32Array(b.rec.inputs[l].length);
      this.handles[l].backward(...this.backwardArgs(weights, grads, b, l, dy, dx));
      if (l > 0) dy = applyMask(dx, b.rec.masks[l - 1]);
    }
  }

  async backwardAsync(weights: Float32Array, grads: Float32Array, b: LayerwiseBackward): Promise<void> {
    let dy = b.dy;
    for (let l = this.L - 1; l >= 0; l--) {
      const dx = l === 0 ? b.dx : new Float32Array(b.rec.inputs[l].length);
      await this.handles[l].backwardAsync(...this.backwardArgs(weights, grads, b, l, dy, dx));
      if (l > 0) dy = applyMask(dx, b.rec.masks[l - 1]);
    }
  }

  private startRecord(f: LayerwiseForward): LayerwiseRecord {
    return { T: f.T, B: f.B, inputs: [f.x], saved: [], masks: [], lengths: f.lengths, h0: f.h0, c0: f.c0, precision: f.precision };
  }

  private forwardArgs(weights: Float32Array, f: LayerwiseForward, rec: LayerwiseRecord, l: number, out: Float32Array): RnnForwardArgs {
    const hs = this.stateSize(f.B), cs = this.cellSize(f.B);
    const saved = new Float32Array(this.handles[l].savedSize(f.T, f.B));
    rec.saved.push(saved);
    return [weights.subarray(...this.blocks[l]), rec.inputs[l], f.T, f.B, this.config.batchFirst, f.lengths,
      f.h0 && f.h0.subarray(l * hs, (l + 1) * hs), f.c0 && f.c0.subarray(l * cs, (l + 1) * cs),
      out, f.hN.subarray(l * hs, (l + 1) * hs), f.cN && f.cN.subarray(l * cs, (l + 1) * cs), saved, f.precision];
  }

  private backwardArgs(weights: Float32Array, grads: Float32Array, b: LayerwiseBackward, l: number,
    dy: Float32Array | null, dx: Float32Array): RnnBackwardArgs {
    const rec = b.rec, hs = this.stateSize(rec.B), cs = this.cellSize(rec.B);
    const slice = (a: Float32Array | null, n: number) => a && a.subarray(l * n, (l + 1) * n);
    return [weights.subarray(...this.blocks[l]), rec.inputs[l], rec.T, rec.B, this.config.batchFirst, rec.lengths,
      slice(rec.h0, hs), slice(rec.c0, cs), rec.saved[l], dy, slice(b.dhN, hs), slice(b.dcN, cs),
      dx, slice(b.dh0, hs), slice(b.dc0, cs), grads.subarray(...this.blocks[l]), rec.precision];
  }

  /** The mask of layer l's output (a stream per layer from the call's seed); returns the masked output. */
  private maskOutput(rec: LayerwiseRecord, out: Float32Array, seed: number, l: number): Float32Array {
    const mask = dropoutMask(out.length, this.config.dropout, seed, l);
    rec.masks.push(mask);
    return applyMask(out, mask);
  }
}
