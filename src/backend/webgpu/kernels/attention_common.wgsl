// What both attention passes share: their parameters and the range of positions a token attends to.
// The including kernel declares `P: Params` and `BATCH` (4 words per token: token, pos, seq, flags).

struct Params {
  n_tok: u32,
  n_head: u32,
  n_head_kv: u32,
  hd: u32,
  hdv: u32,
  n_ctx: u32,
  k_layer_base: u32,
  v_layer_base: u32,
  scale: f32,
  softcap: f32,
  window: u32,   // 0: none; else only the last `window` positions
  tiles_x: u32,  // the score pass's workgroups along x per (head, token)
  round_out: u32,  // round_output()'s mode for the value pass's output (f16/bf16 for its matvec)
}

// [first, end) of the positions token t attends to: causal, and within the window if there is one.
fn attended_range(t: u32) -> vec2<u32> {
  let pos = BATCH[4u * t + 1u];
  var p_begin = 0u;
  if (P.window > 0u && pos + 1u > P.window) {
    p_begin = pos + 1u - P.window;
  }
  return vec2<u32>(p_begin, pos + 1u);
}
