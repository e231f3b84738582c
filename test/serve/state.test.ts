// Stream states as bytes: a round trip gives the same floats and the same next steps; bytes of
// another model, or that are not a stream state at all, are refused with a RangeError.
import { describe, expect, test } from 'vitest';
import { Dense, GRU, LSTM, Sequential, StateLayout, StreamState } from '../../lib/index';

const lstmModel = (H: number) => new Sequential([new LSTM({ inputSize: 3, hiddenSize: H, numLayers: 2, seed: 1 }), new Dense({ units: 2, seed: 2 })]);

describe('StreamState bytes', () => {
  test('round trip: same floats, same shapes, and stepping on from the copy equals stepping on from the original', async () => {
    const model = lstmModel(5);
    const server = model.serve({ maxDelayMs: 0 });
    let s = await server.step([0.1, -0.2, 0.3]);
    s = await server.step([1, 0, -1], s.state);
    const bytes = s.state.toBytes();
    expect(bytes).toBeInstanceOf(Uint8Array);
    expect(String.fromCharCode(...bytes.subarray(0, 8))).toBe('FRNNSTAT');
    expect(bytes.length).toBe(16 + 2 * 12 + 4 * 2 * (2 * 5));            // header, 2 tensors, h and c [2, 5]
    const back = server.loadState(Buffer.from(bytes));                   // a Buffer works too
    expect(Array.from(back.data)).toEqual(Array.from(s.state.data));
    expect(back.tensors.map((t) => [t.layer, t.name, t.shape])).toEqual([[0, 'h', [2, 5]], [0, 'c', [2, 5]]]);
    expect(StreamState.fromBytes(bytes.slice().buffer).layout.describe()).toBe('0.h [2, 5], 0.c [2, 5]');
    const [a, b] = await Promise.all([server.step([0.5, 0.5, 0.5], s.state), server.step([0.5, 0.5, 0.5], back)]);
    expect(Array.from(b.output.data)).toEqual(Array.from(a.output.data));
    await server.close();
  });

  test('a state of another model is refused with a RangeError naming both shapes', async () => {
    const small = lstmModel(5).serve(), big = lstmModel(6).serve();
    const gru = new Sequential([new GRU({ inputSize: 3, hiddenSize: 5, numLayers: 2, seed: 1 })]).serve();
    const s = (await small.step([1, 2, 3])).state;
    const bytes = s.toBytes();
    expect(() => big.loadState(bytes)).toThrow(RangeError);
    expect(() => big.loadState(bytes)).toThrow('it holds 0.h [2, 5], 0.c [2, 5]; the model\'s state is 0.h [2, 6], 0.c [2, 6]');
    expect(() => StreamState.fromBytes(bytes, gru)).toThrow(/does not fit the model/);
    await expect(big.step([1, 2, 3], s)).rejects.toThrow(RangeError);   // and as a request: rejected, not batched
    await expect(gru.step([1, 2, 3], StreamState.fromBytes(bytes))).rejects.toThrow(/does not fit/);
    await Promise.all([small.close(), big.close(), gru.close()]);
  });

  test('bytes that are not a stream state are refused with a RangeError', () => {
    const layout = new StateLayout([{ layer: 0, name: 'h', slots: 1, size: 3 }, { layer: 2, name: 'h', slots: 2, size: 1 }]);
    const good = new StreamState(layout, new Float32Array([1, 2, 3, 4, 5])).toBytes();
    expect(StreamState.fromBytes(good, layout).data).toEqual(new Float32Array([1, 2, 3, 4, 5]));
    const bad = (f: (b: Uint8Array) => Uint8Array) => () => StreamState.fromBytes(f(good.slice()), layout);
    expect(bad((b) => b.subarray(0, 10))).toThrow(/shorter than the 16-byte header/);
    expect(bad((b) => { b[0] = 0x7b; return b; })).toThrow(/format tag/);            // e.g. a JSON string
    expect(bad((b) => { b[8] = 9; return b; })).toThrow(/format version 9/);
    expect(bad((b) => b.subarray(0, b.length - 4))).toThrow(/truncated/);
    expect(bad((b) => { b[16 + 2] = 'x'.charCodeAt(0); return b; })).toThrow(/tensor 0 is malformed/);
    expect(() => StreamState.fromBytes('FRNNSTAT' as never)).toThrow(TypeError);
    for (const f of [bad((b) => b.subarray(0, 3)), bad((b) => { b[3] = 0; return b; })]) expect(f).toThrow(RangeError);
  });

  test('initialState() is a fresh zero state; step(x, initialState()) equals step(x)', async () => {
    const server = lstmModel(4).serve();
    const z = server.initialState();
    expect(Array.from(z.data)).toEqual(new Array(16).fill(0));
    const [a, b] = await Promise.all([server.step([1, 1, 1]), server.step([1, 1, 1], z)]);
    expect(Array.from(a.output.data)).toEqual(Array.from(b.output.data));
    expect(Array.from(z.data)).toEqual(new Array(16).fill(0));        // not changed by step()
    await server.close();
  });
});
