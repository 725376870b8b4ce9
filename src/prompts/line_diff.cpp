#include "prompts/line_diff.h"

#include <algorithm>

namespace hearth::prompts {

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    size_t end = nl == std::string_view::npos ? text.size() : nl + 1;
    lines.push_back(text.substr(start, end - start));
    start = end;
  }
  return lines;
}

namespace {

using Lines = std::vector<std::string_view>;

// Myers on a[a0..a1) and b[b0..b1) after common prefix/suffix are trimmed. Appends edits in order.
void myers(const Lines& a, size_t a0, size_t a1, const Lines& b, size_t b0, size_t b1, std::vector<DiffLine>& out) {
  const int n = static_cast<int>(a1 - a0), m = static_cast<int>(b1 - b0);
  const int max = n + m;
  auto A = [&](int i) { return a[a0 + static_cast<size_t>(i)]; };
  auto B = [&](int i) { return b[b0 + static_cast<size_t>(i)]; };

  // trace[d] holds V[-d..d] after round d: the furthest x reached on each diagonal k = x - y.
  std::vector<std::vector<int>> trace;
  std::vector<int> v(static_cast<size_t>(2 * max + 3), 0);
  auto V = [&](int k) -> int& { return v[static_cast<size_t>(k + max + 1)]; };
  int found_d = -1;
  for (int d = 0; d <= std::min(max, kMaxEditDistance) && found_d < 0; ++d) {
    for (int k = -d; k <= d; k += 2) {
      int x = (k == -d || (k != d && V(k - 1) < V(k + 1))) ? V(k + 1) : V(k - 1) + 1;
      int y = x - k;
      while (x < n && y < m && A(x) == B(y)) ++x, ++y;
      V(k) = x;
      if (x >= n && y >= m) found_d = d;
    }
    trace.emplace_back(v.begin() + (max + 1 - d), v.begin() + (max + 2 + d));
  }

  if (found_d < 0) {  // too different: replace the whole middle
    for (int i = 0; i < n; ++i) out.push_back({DiffLine::Kind::Delete, A(i)});
    for (int j = 0; j < m; ++j) out.push_back({DiffLine::Kind::Insert, B(j)});
    return;
  }

  std::vector<DiffLine> reversed;
  int x = n, y = m;
  for (int d = found_d; d > 0; --d) {
    const std::vector<int>& prev = trace[static_cast<size_t>(d - 1)];
    auto P = [&](int k) { return prev[static_cast<size_t>(k + d - 1)]; };
    int k = x - y;
    int prev_k = (k == -d || (k != d && P(k - 1) < P(k + 1))) ? k + 1 : k - 1;
    int prev_x = P(prev_k), prev_y = prev_x - prev_k;
    while (x > prev_x && y > prev_y) reversed.push_back({DiffLine::Kind::Equal, A(--x)}), --y;
    if (prev_k == k + 1) reversed.push_back({DiffLine::Kind::Insert, B(--y)});
    else reversed.push_back({DiffLine::Kind::Delete, A(--x)});
  }
  while (x > 0 && y > 0) reversed.push_back({DiffLine::Kind::Equal, A(--x)}), --y;
  out.insert(out.end(), reversed.rbegin(), reversed.rend());
}

}  // namespace

std::vector<DiffLine> diff_lines(const Lines& a, const Lines& b) {
  size_t prefix = 0;
  while (prefix < a.size() && prefix < b.size() && a[prefix] == b[prefix]) ++prefix;
  size_t suffix = 0;
  while (suffix < a.size() - prefix && suffix < b.size() - prefix &&
         a[a.size() - 1 - suffix] == b[b.size() - 1 - suffix])
    ++suffix;
  std::vector<DiffLine> out;
  for (size_t i = 0; i < prefix; ++i) out.push_back({DiffLine::Kind::Equal, a[i]});
  myers(a, prefix, a.size() - suffix, b, prefix, b.size() - suffix, out);
  for (size_t i = a.size() - suffix; i < a.size(); ++i) out.push_back({DiffLine::Kind::Equal, a[i]});
  return out;
}

std::string unified_diff(std::string_view a_text, std::string_view b_text, std::string_view a_label,
                         std::string_view b_label, int context) {
  Lines a = split_lines(a_text), b = split_lines(b_text);
  std::vector<DiffLine> edits = diff_lines(a, b);
  const size_t n = edits.size();
  const size_t ctx = static_cast<size_t>(std::max(context, 0));

  std::string out;
  auto emit_line = [&](char prefix, std::string_view text) {
    out.push_back(prefix);
    out.append(text);
    if (text.empty() || text.back() != '\n') out.append("\n\\ No newline at end of file\n");
  };

  // Line numbers (0-based) in a and b before each edit.
  std::vector<size_t> a_at(n + 1), b_at(n + 1);
  for (size_t i = 0; i < n; ++i) {
    a_at[i + 1] = a_at[i] + (edits[i].kind != DiffLine::Kind::Insert);
    b_at[i + 1] = b_at[i] + (edits[i].kind != DiffLine::Kind::Delete);
  }

  size_t i = 0;
  bool header_written = false;
  while (i < n) {
    while (i < n && edits[i].kind == DiffLine::Kind::Equal) ++i;
    if (i == n) break;
    // A hunk runs from ctx lines before this change to ctx lines after the last change that is within
    // 2*ctx equal lines of the previous one.
    size_t start = i >= ctx ? i - ctx : 0;
    size_t end = i;
    while (true) {
      while (end < n && edits[end].kind != DiffLine::Kind::Equal) ++end;
      size_t run = end;
      while (run < n && edits[run].kind == DiffLine::Kind::Equal) ++run;
      if (run < n && run - end <= 2 * ctx) { end = run; continue; }
      end = std::min(end + ctx, n);
      break;
    }
    if (!header_written) {
      out += "--- " + std::string(a_label) + "\n+++ " + std::string(b_label) + "\n";
      header_written = true;
    }
    size_t a_len = a_at[end] - a_at[start], b_len = b_at[end] - b_at[start];
    // Unified format numbers lines from 1; an empty range is named by the line before it.
    size_t a_first = a_len ? a_at[start] + 1 : a_at[start];
    size_t b_first = b_len ? b_at[start] + 1 : b_at[start];
    out += "@@ -" + std::to_string(a_first) + "," + std::to_string(a_len) + " +" + std::to_string(b_first) + "," +
           std::to_string(b_len) + " @@\n";
    for (size_t j = start; j < end; ++j) {
      const DiffLine& e = edits[j];
      emit_line(e.kind == DiffLine::Kind::Equal ? ' ' : e.kind == DiffLine::Kind::Delete ? '-' : '+', e.text);
    }
    i = end;
  }
  return out;
}

}  // namespace hearth::prompts
