// What every matvec kernel shares: its parameters, the output and bias bindings, and the output step (bias,
// soft-cap, residual add, store). The including kernel binds W (0) and X (1) in the element types it reads
// and defines capped(y) (tanh, or tanh_accurate where results must be exact).
struct Params {
  rows: u32,       // rows in this binding of W
  cols: u32,
  n_tok: u32,
  row_bytes: u32,
  x_stride: u32,   // words per token in X
  y_stride: u32,   // floats per token in Y
  y_offset: u32,   // first output column of row 0 of the whole matrix
  row_base: u32,   // index of this binding's first row within the whole matrix
  grid_x: u32,     // workgroups along x (more continue in y)
  has_bias: u32,
  softcap: f32,    // > 0: y = tanh(y / softcap) * softcap
  accumulate: u32, // 1: y += result (residual add)
}

@group(0) @binding(2) var<storage, read_write> Y: array<f32>;
@group(0) @binding(3) var<storage, read> BIAS: array<f32>;
@group(0) @binding(4) var<uniform> P: Params;

fn store_output(tok: u32, out_row: u32, acc: f32) {
  var y = acc;
  if (P.has_bias != 0u) {
    y += BIAS[out_row];
  }
  if (P.softcap > 0.0) {
    y = capped(y);
  }
  let i = tok * P.y_stride + P.y_offset + out_row;
  if (P.accumulate != 0u) {
    y += Y[i];
  }
  Y[i] = y;
}
