// Weights as int8 for files: symmetric, one scale per row (a row of weight_ih / weight_hh /
// weight_hr is one output channel, a gate unit's weights), the scheme the int8 precision uses:
// scale = max|row| / 127, q = w / scale rounded to nearest (ties to even), in -127..127; a row of
// zeros has scale 0 and q 0. Back: w = q · scale, rounded to float32.

/** Rows of `w` ([rows, cols] row-major) as int8 values and their float32 scales. */
export function quantizeRows(w: Float32Array, rows: number): { q: Int8Array; scale: Float32Array } {
  const cols = rows === 0 ? 0 : w.length / rows;
  const q = new Int8Array(w.length);
  const scale = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    const at = r * cols;
    let max = 0;
    for (let c = 0; c < cols; c++) max = Math.max(max, Math.abs(w[at + c]));
    const s = Math.fround(max / 127);
    scale[r] = s;
    if (s === 0) continue;
    for (let c = 0; c < cols; c++) q[at + c] = Math.max(-127, Math.min(127, roundHalfEven(Math.fround(w[at + c] / s))));
  }
  return { q, scale };
}

/** q · scale per row, as float32 ([rows, cols] row-major). */
export function dequantizeRows(q: ArrayLike<number>, scale: Float32Array, rows: number): Float32Array {
  const cols = rows === 0 ? 0 : q.length / rows;
  const w = new Float32Array(q.length);
  for (let r = 0; r < rows; r++) {
    const s = scale[r];
    for (let c = 0, at = r * cols; c < cols; c++) w[at + c] = q[at + c] * s;
  }
  return w;
}

function roundHalfEven(v: number): number {
  const f = Math.floor(v), d = v - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}
