#include "report/curve_plot.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>

#include "common/check.h"

namespace negatron::report {
namespace {

// --- font -------------------------------------------------------------------------------------
// 5x7 glyphs on a 6x10 cell: rows 0-6 reach from cap height to the baseline, rows 7-8 hold
// descenders. Each glyph is its rows top to bottom, '|'-separated; missing rows are blank.
struct Glyph {
  char c;
  const char* rows;
};

constexpr Glyph kGlyphs[] = {
    {' ', ""},
    {'!', "..#..|..#..|..#..|..#..|..#..|.....|..#.."},
    {'"', ".#.#.|.#.#.|.#.#."},
    {'#', ".#.#.|.#.#.|#####|.#.#.|#####|.#.#.|.#.#."},
    {'$', "..#..|.####|#.#..|.###.|..#.#|####.|..#.."},
    {'%', "##...|##..#|...#.|..#..|.#...|#..##|...##"},
    {'&', ".##..|#..#.|#.#..|.#...|#.#.#|#..#.|.##.#"},
    {'\'', "..#..|..#..|..#.."},
    {'(', "...#.|..#..|.#...|.#...|.#...|..#..|...#."},
    {')', ".#...|..#..|...#.|...#.|...#.|..#..|.#..."},
    {'*', ".....|..#..|#.#.#|.###.|#.#.#|..#..|....."},
    {'+', ".....|..#..|..#..|#####|..#..|..#..|....."},
    {',', ".....|.....|.....|.....|.....|..#..|..#..|.#..."},
    {'-', ".....|.....|.....|.###.|.....|.....|....."},
    {'.', ".....|.....|.....|.....|.....|.....|..#.."},
    {'/', "....#|....#|...#.|..#..|.#...|#....|#...."},
    {'0', ".###.|#...#|#..##|#.#.#|##..#|#...#|.###."},
    {'1', "..#..|.##..|..#..|..#..|..#..|..#..|.###."},
    {'2', ".###.|#...#|....#|...#.|..#..|.#...|#####"},
    {'3', "#####|...#.|..#..|...#.|....#|#...#|.###."},
    {'4', "...#.|..##.|.#.#.|#..#.|#####|...#.|...#."},
    {'5', "#####|#....|####.|....#|....#|#...#|.###."},
    {'6', "..##.|.#...|#....|####.|#...#|#...#|.###."},
    {'7', "#####|....#|...#.|..#..|.#...|.#...|.#..."},
    {'8', ".###.|#...#|#...#|.###.|#...#|#...#|.###."},
    {'9', ".###.|#...#|#...#|.####|....#|...#.|.##.."},
    {':', ".....|.....|..#..|.....|.....|..#..|....."},
    {';', ".....|.....|..#..|.....|.....|..#..|..#..|.#..."},
    {'<', "...#.|..#..|.#...|#....|.#...|..#..|...#."},
    {'=', ".....|.....|#####|.....|#####|.....|....."},
    {'>', ".#...|..#..|...#.|....#|...#.|..#..|.#..."},
    {'?', ".###.|#...#|....#|...#.|..#..|.....|..#.."},
    {'@', ".###.|#...#|#.###|#.#.#|#.###|#....|.####"},
    {'A', ".###.|#...#|#...#|#####|#...#|#...#|#...#"},
    {'B', "####.|#...#|#...#|####.|#...#|#...#|####."},
    {'C', ".###.|#...#|#....|#....|#....|#...#|.###."},
    {'D', "####.|#...#|#...#|#...#|#...#|#...#|####."},
    {'E', "#####|#....|#....|####.|#....|#....|#####"},
    {'F', "#####|#....|#....|####.|#....|#....|#...."},
    {'G', ".###.|#...#|#....|#.###|#...#|#...#|.####"},
    {'H', "#...#|#...#|#...#|#####|#...#|#...#|#...#"},
    {'I', ".###.|..#..|..#..|..#..|..#..|..#..|.###."},
    {'J', "..###|...#.|...#.|...#.|...#.|#..#.|.##.."},
    {'K', "#...#|#..#.|#.#..|##...|#.#..|#..#.|#...#"},
    {'L', "#....|#....|#....|#....|#....|#....|#####"},
    {'M', "#...#|##.##|#.#.#|#.#.#|#...#|#...#|#...#"},
    {'N', "#...#|#...#|##..#|#.#.#|#..##|#...#|#...#"},
    {'O', ".###.|#...#|#...#|#...#|#...#|#...#|.###."},
    {'P', "####.|#...#|#...#|####.|#....|#....|#...."},
    {'Q', ".###.|#...#|#...#|#...#|#.#.#|#..#.|.##.#"},
    {'R', "####.|#...#|#...#|####.|#.#..|#..#.|#...#"},
    {'S', ".####|#....|#....|.###.|....#|....#|####."},
    {'T', "#####|..#..|..#..|..#..|..#..|..#..|..#.."},
    {'U', "#...#|#...#|#...#|#...#|#...#|#...#|.###."},
    {'V', "#...#|#...#|#...#|#...#|#...#|.#.#.|..#.."},
    {'W', "#...#|#...#|#...#|#.#.#|#.#.#|#.#.#|.#.#."},
    {'X', "#...#|#...#|.#.#.|..#..|.#.#.|#...#|#...#"},
    {'Y', "#...#|#...#|.#.#.|..#..|..#..|..#..|..#.."},
    {'Z', "#####|....#|...#.|..#..|.#...|#....|#####"},
    {'[', ".###.|.#...|.#...|.#...|.#...|.#...|.###."},
    {'\\', "#....|#....|.#...|..#..|...#.|....#|....#"},
    {']', ".###.|...#.|...#.|...#.|...#.|...#.|.###."},
    {'^', "..#..|.#.#.|#...#"},
    {'_', ".....|.....|.....|.....|.....|.....|.....|#####"},
    {'`', ".#...|..#.."},
    {'a', ".....|.....|.###.|....#|.####|#...#|.####"},
    {'b', "#....|#....|#.##.|##..#|#...#|#...#|####."},
    {'c', ".....|.....|.###.|#....|#....|#...#|.###."},
    {'d', "....#|....#|.##.#|#..##|#...#|#...#|.####"},
    {'e', ".....|.....|.###.|#...#|#####|#....|.###."},
    {'f', "..##.|.#..#|.#...|###..|.#...|.#...|.#..."},
    {'g', ".....|.....|.####|#...#|#...#|#...#|.####|....#|.###."},
    {'h', "#....|#....|#.##.|##..#|#...#|#...#|#...#"},
    {'i', "..#..|.....|.##..|..#..|..#..|..#..|.###."},
    {'j', "...#.|.....|..##.|...#.|...#.|...#.|...#.|#..#.|.##.."},
    {'k', "#....|#....|#..#.|#.#..|##...|#.#..|#..#."},
    {'l', ".##..|..#..|..#..|..#..|..#..|..#..|.###."},
    {'m', ".....|.....|##.#.|#.#.#|#.#.#|#.#.#|#.#.#"},
    {'n', ".....|.....|#.##.|##..#|#...#|#...#|#...#"},
    {'o', ".....|.....|.###.|#...#|#...#|#...#|.###."},
    {'p', ".....|.....|####.|#...#|#...#|#...#|####.|#....|#...."},
    {'q', ".....|.....|.####|#...#|#...#|#...#|.####|....#|....#"},
    {'r', ".....|.....|#.##.|##..#|#....|#....|#...."},
    {'s', ".....|.....|.####|#....|.###.|....#|####."},
    {'t', ".#...|.#...|###..|.#...|.#...|.#..#|..##."},
    {'u', ".....|.....|#...#|#...#|#...#|#..##|.##.#"},
    {'v', ".....|.....|#...#|#...#|#...#|.#.#.|..#.."},
    {'w', ".....|.....|#...#|#...#|#.#.#|#.#.#|.#.#."},
    {'x', ".....|.....|#...#|.#.#.|..#..|.#.#.|#...#"},
    {'y', ".....|.....|#...#|#...#|#...#|#...#|.####|....#|.###."},
    {'z', ".....|.....|#####|...#.|..#..|.#...|#####"},
    {'{', "...#.|..#..|..#..|.#...|..#..|..#..|...#."},
    {'|', "..#..|..#..|..#..|..#..|..#..|..#..|..#.."},
    {'}', ".#...|..#..|..#..|...#.|..#..|..#..|.#..."},
    {'~', ".....|.....|.#...|#.#.#|...#.|.....|....."},
};

constexpr int kGlyphW = 5, kGlyphRows = 9, kAdvance = 6;

using Bitmap = std::array<uint8_t, kGlyphRows>;  // bit (4 - col) set = ink

const Bitmap& glyph(char c) {
  static const std::array<Bitmap, 128> table = [] {
    std::array<Bitmap, 128> t{};
    for (const Glyph& g : kGlyphs) {
      Bitmap bits{};
      int row = 0, col = 0;
      for (const char* p = g.rows; *p; ++p) {
        if (*p == '|') {
          ++row;
          col = 0;
        } else {
          if (*p == '#' && row < kGlyphRows && col < kGlyphW) bits[row] |= static_cast<uint8_t>(1u << (4 - col));
          ++col;
        }
      }
      t[static_cast<unsigned char>(g.c)] = bits;
    }
    return t;
  }();
  const unsigned char u = static_cast<unsigned char>(c);
  return table[(u >= 32 && u < 127) ? u : '?'];
}

int text_width(const std::string& s, int scale) {
  return s.empty() ? 0 : (static_cast<int>(s.size()) * kAdvance - 1) * scale;
}
int cap_height(int scale) { return 7 * scale; }

// --- canvas -----------------------------------------------------------------------------------
struct Color {
  uint8_t r, g, b;
};
constexpr Color kInk{30, 30, 30};
constexpr Color kAxis{70, 70, 70};
constexpr Color kGrid{226, 226, 226};
constexpr Color kLegendEdge{200, 200, 200};
constexpr Color kWhite{255, 255, 255};
// Ten distinguishable line colours (the usual categorical palette of plotting tools).
constexpr Color kPalette[] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44},  {214, 39, 40},  {148, 103, 189},
                              {140, 86, 75},  {227, 119, 194}, {127, 127, 127}, {188, 189, 34}, {23, 190, 207}};

class Canvas {
 public:
  explicit Canvas(RgbImage& image) : image_(image) { clear_clip(); }
  void clip(int x0, int y0, int x1, int y1) {  // inclusive bounds
    cx0_ = std::max(0, x0), cy0_ = std::max(0, y0);
    cx1_ = std::min(image_.width - 1, x1), cy1_ = std::min(image_.height - 1, y1);
  }
  void clear_clip() { clip(0, 0, image_.width - 1, image_.height - 1); }

  void blend(int x, int y, Color c, double alpha) {
    if (x < cx0_ || x > cx1_ || y < cy0_ || y > cy1_ || alpha <= 0) return;
    alpha = std::min(alpha, 1.0);
    uint8_t* p = image_.at(x, y);
    const uint8_t v[3] = {c.r, c.g, c.b};
    for (int k = 0; k < 3; ++k) p[k] = static_cast<uint8_t>(std::lround(p[k] + (v[k] - p[k]) * alpha));
  }
  void fill(int x0, int y0, int x1, int y1, Color c) {  // inclusive
    for (int y = y0; y <= y1; ++y) {
      for (int x = x0; x <= x1; ++x) blend(x, y, c, 1.0);
    }
  }
  void outline(int x0, int y0, int x1, int y1, Color c) {
    fill(x0, y0, x1, y0, c);
    fill(x0, y1, x1, y1, c);
    fill(x0, y0, x0, y1, c);
    fill(x1, y0, x1, y1, c);
  }
  // An anti-aliased segment of the given width (pixel centres at +0.5).
  void segment(double x0, double y0, double x1, double y1, double width, Color c) {
    const double r = width / 2;
    const int bx0 = static_cast<int>(std::floor(std::min(x0, x1) - r - 1));
    const int bx1 = static_cast<int>(std::ceil(std::max(x0, x1) + r + 1));
    const int by0 = static_cast<int>(std::floor(std::min(y0, y1) - r - 1));
    const int by1 = static_cast<int>(std::ceil(std::max(y0, y1) + r + 1));
    const double dx = x1 - x0, dy = y1 - y0, len2 = dx * dx + dy * dy;
    for (int y = std::max(by0, cy0_); y <= std::min(by1, cy1_); ++y) {
      for (int x = std::max(bx0, cx0_); x <= std::min(bx1, cx1_); ++x) {
        const double px = x + 0.5, py = y + 0.5;
        double t = len2 > 0 ? ((px - x0) * dx + (py - y0) * dy) / len2 : 0.0;
        t = std::clamp(t, 0.0, 1.0);
        const double d = std::hypot(px - (x0 + t * dx), py - (y0 + t * dy));
        blend(x, y, c, r + 0.5 - d);
      }
    }
  }
  void disc(double cx, double cy, double radius, Color c) { segment(cx, cy, cx, cy, 2 * radius, c); }

  // Text with its top-left corner at (x, y). Vertical text reads bottom to top (rotated 90 degrees
  // counter-clockwise); its box is 9 * scale wide and text_width tall.
  void text(int x, int y, const std::string& s, Color c, int scale, bool vertical = false) {
    const int total = text_width(s, scale);
    for (size_t i = 0; i < s.size(); ++i) {
      const Bitmap& bits = glyph(s[i]);
      for (int row = 0; row < kGlyphRows; ++row) {
        for (int col = 0; col < kGlyphW; ++col) {
          if (!(bits[row] & (1u << (4 - col)))) continue;
          const int hx = (static_cast<int>(i) * kAdvance + col) * scale;  // horizontal layout offsets
          const int hy = row * scale;
          for (int sy = 0; sy < scale; ++sy) {
            for (int sx = 0; sx < scale; ++sx) {
              if (vertical) {
                blend(x + hy + sy, y + total - 1 - (hx + sx), c, 1.0);
              } else {
                blend(x + hx + sx, y + hy + sy, c, 1.0);
              }
            }
          }
        }
      }
    }
  }

 private:
  RgbImage& image_;
  int cx0_ = 0, cy0_ = 0, cx1_ = 0, cy1_ = 0;
};

// --- axes -------------------------------------------------------------------------------------
struct Ticks {
  std::vector<double> values;
  std::vector<std::string> labels;
};

double nice_step(double range, int target) {
  const double raw = range / target;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / magnitude;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * magnitude;
}

Ticks make_ticks(double lo, double hi, int target, bool integers) {
  Ticks ticks;
  double step = nice_step(hi - lo, target);
  if (integers) step = std::max(1.0, std::round(step));
  const double biggest = std::max(std::fabs(lo), std::fabs(hi));
  const bool scientific = biggest >= 1e6 || step < 1e-5;
  const int decimals = std::clamp(static_cast<int>(std::ceil(-std::log10(step) - 1e-9)), 0, 6);
  for (double k = std::ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k += 1) {
    double v = k * step;
    if (std::fabs(v) < step * 1e-6) v = 0.0;
    char buffer[32];
    if (scientific) {
      std::snprintf(buffer, sizeof buffer, "%.3g", v);
    } else {
      std::snprintf(buffer, sizeof buffer, "%.*f", decimals, v);
    }
    ticks.values.push_back(v);
    ticks.labels.emplace_back(buffer);
  }
  return ticks;
}

std::string fit_text(const std::string& s, int max_width, int scale) {
  if (text_width(s, scale) <= max_width) return s;
  std::string out = s;
  while (!out.empty() && text_width(out + "..", scale) > max_width) out.pop_back();
  return out + "..";
}

void draw_panel(Canvas& canvas, const CurvePanel& panel, int ox, int oy, int width, int height) {
  constexpr int kScale = 2;
  const int text_h = cap_height(kScale);
  // Data ranges over finite points.
  double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
  std::vector<size_t> shown;  // series with at least one finite point
  for (size_t s = 0; s < panel.series.size(); ++s) {
    bool any = false;
    for (const auto& [x, y] : panel.series[s].points) {
      if (!std::isfinite(x) || !std::isfinite(y)) continue;
      xlo = std::min(xlo, x), xhi = std::max(xhi, x), ylo = std::min(ylo, y), yhi = std::max(yhi, y);
      any = true;
    }
    if (any) shown.push_back(s);
  }
  const bool empty = shown.empty();
  if (empty) xlo = 0, xhi = 1, ylo = 0, yhi = 1;
  if (xhi - xlo <= 0) xlo -= 1, xhi += 1;
  if (yhi - ylo <= 0) {
    const double pad = ylo != 0 ? std::fabs(ylo) * 0.05 : 0.5;
    ylo -= pad, yhi += pad;
  }
  const double xpad = (xhi - xlo) * 0.03, ypad = (yhi - ylo) * 0.06;
  xlo -= xpad, xhi += xpad, ylo -= ypad, yhi += ypad;
  const Ticks yticks = empty ? Ticks{} : make_ticks(ylo, yhi, 7, false);
  const bool integer_x = std::all_of(panel.series.begin(), panel.series.end(), [](const CurveSeries& s) {
    return std::all_of(s.points.begin(), s.points.end(), [](const auto& p) { return p.first == std::round(p.first); });
  });
  const Ticks xticks = empty ? Ticks{} : make_ticks(xlo, xhi, 6, integer_x);

  // Layout: title on top, y label and tick labels on the left, x tick labels and label below.
  int ytick_w = 0;
  for (const auto& label : yticks.labels) ytick_w = std::max(ytick_w, text_width(label, kScale));
  const int left = ox + 14 + (panel.y_label.empty() ? 0 : 9 * kScale + 10) + ytick_w + 10;
  const int right = ox + width - 22;
  const int top = oy + 16 + text_h + 16;
  const int bottom = oy + height - (10 + text_h + 10 + (panel.x_label.empty() ? 0 : text_h + 10) + 8);
  if (right - left < 20 || bottom - top < 20) return;  // too small to draw anything useful
  auto px = [&](double x) { return left + (x - xlo) / (xhi - xlo) * (right - left); };
  auto py = [&](double y) { return bottom - (y - ylo) / (yhi - ylo) * (bottom - top); };

  canvas.text(ox + (width - text_width(panel.title, kScale)) / 2, oy + 16, panel.title, kInk, kScale);
  if (!panel.y_label.empty()) {
    const int h = text_width(panel.y_label, kScale);
    canvas.text(ox + 14, (top + bottom - h) / 2, panel.y_label, kInk, kScale, true);
  }
  if (!panel.x_label.empty()) {
    canvas.text((left + right - text_width(panel.x_label, kScale)) / 2, bottom + 10 + text_h + 10, panel.x_label,
                kInk, kScale);
  }
  // Grid, ticks and tick labels.
  for (size_t i = 0; i < yticks.values.size(); ++i) {
    const int y = static_cast<int>(std::lround(py(yticks.values[i])));
    if (y < top || y > bottom) continue;
    canvas.fill(left + 1, y, right - 1, y, kGrid);
    canvas.fill(left - 5, y, left - 1, y, kAxis);
    canvas.text(left - 8 - text_width(yticks.labels[i], kScale), y - text_h / 2, yticks.labels[i], kInk, kScale);
  }
  for (size_t i = 0; i < xticks.values.size(); ++i) {
    const int x = static_cast<int>(std::lround(px(xticks.values[i])));
    if (x < left || x > right) continue;
    canvas.fill(x, top + 1, x, bottom - 1, kGrid);
    canvas.fill(x, bottom + 1, x, bottom + 5, kAxis);
    canvas.text(x - text_width(xticks.labels[i], kScale) / 2, bottom + 10, xticks.labels[i], kInk, kScale);
  }
  canvas.outline(left, top, right, bottom, kAxis);
  if (empty) {
    const std::string message = fit_text(panel.empty_message, right - left - 20, kScale);
    canvas.text((left + right - text_width(message, kScale)) / 2, (top + bottom - text_h) / 2, message, kAxis,
                kScale);
    return;
  }

  // Curves, clipped to the inside of the frame.
  canvas.clip(left + 1, top + 1, right - 1, bottom - 1);
  std::vector<std::pair<double, double>> screen_points;  // for the legend placement
  for (size_t k = 0; k < shown.size(); ++k) {
    const CurveSeries& series = panel.series[shown[k]];
    const Color color = kPalette[k % std::size(kPalette)];
    bool have_prev = false;
    double prev_x = 0, prev_y = 0;
    for (const auto& [x, y] : series.points) {
      if (!std::isfinite(x) || !std::isfinite(y)) {
        have_prev = false;
        continue;
      }
      const double sx = px(x), sy = py(y);
      if (have_prev) {
        canvas.segment(prev_x, prev_y, sx, sy, 2.2, color);
        const int n = static_cast<int>(std::hypot(sx - prev_x, sy - prev_y) / 3) + 1;
        for (int j = 0; j < n; ++j) {
          const double t = static_cast<double>(j) / n;
          screen_points.emplace_back(prev_x + t * (sx - prev_x), prev_y + t * (sy - prev_y));
        }
      }
      screen_points.emplace_back(sx, sy);
      if (panel.markers) canvas.disc(sx, sy, 4.0, color);
      prev_x = sx, prev_y = sy, have_prev = true;
    }
  }
  canvas.clear_clip();

  // Legend in the corner that covers the fewest curve points.
  constexpr int kPad = 8, kSwatch = 26, kRow = 20;
  const int max_label_w = std::max(10, right - left - 2 * kPad - kSwatch - 8 - 20);
  std::vector<std::string> labels;
  int label_w = 0;
  for (size_t s : shown) {
    labels.push_back(fit_text(panel.series[s].name, max_label_w, kScale));
    label_w = std::max(label_w, text_width(labels.back(), kScale));
  }
  const int box_w = kPad + kSwatch + 8 + label_w + kPad;
  const int box_h = kPad + static_cast<int>(labels.size()) * kRow - (kRow - text_h) + kPad;
  const int inset = 10;
  const std::array<std::pair<int, int>, 4> corners{{{right - inset - box_w, top + inset},
                                                    {left + inset, top + inset},
                                                    {left + inset, bottom - inset - box_h},
                                                    {right - inset - box_w, bottom - inset - box_h}}};
  size_t best = 0, best_count = SIZE_MAX;
  for (size_t c = 0; c < corners.size(); ++c) {
    const auto [bx, by] = corners[c];
    size_t count = 0;
    for (const auto& [x, y] : screen_points) count += x >= bx && x <= bx + box_w && y >= by && y <= by + box_h;
    if (count < best_count) best = c, best_count = count;
  }
  const auto [bx, by] = corners[best];
  canvas.fill(bx, by, bx + box_w, by + box_h, kWhite);
  canvas.outline(bx, by, bx + box_w, by + box_h, kLegendEdge);
  for (size_t k = 0; k < labels.size(); ++k) {
    const Color color = kPalette[k % std::size(kPalette)];
    const int row_y = by + kPad + static_cast<int>(k) * kRow;
    const double mid = row_y + text_h / 2.0;
    canvas.segment(bx + kPad, mid, bx + kPad + kSwatch, mid, 2.2, color);
    if (panel.markers) canvas.disc(bx + kPad + kSwatch / 2.0, mid, 4.0, color);
    canvas.text(bx + kPad + kSwatch + 8, row_y, labels[k], kInk, kScale);
  }
}

// Series keyed by name in first-seen order; a point at a step not after the series' last point
// replaces the points from that step on (a restarted or resumed run).
class SeriesSet {
 public:
  void add(const std::string& name, double step, double value) {
    auto it = index_.find(name);
    if (it == index_.end()) {
      it = index_.emplace(name, series_.size()).first;
      series_.push_back({name, {}});
    }
    auto& points = series_[it->second].points;
    while (!points.empty() && points.back().first >= step) points.pop_back();
    points.emplace_back(step, value);
  }
  void truncate_from(double step) {
    for (auto& s : series_) {
      while (!s.points.empty() && s.points.back().first >= step) s.points.pop_back();
    }
  }
  const std::vector<CurveSeries>& series() const { return series_; }

 private:
  std::map<std::string, size_t> index_;
  std::vector<CurveSeries> series_;
};

}  // namespace

RgbImage render_curve_panels(const std::vector<CurvePanel>& panels, int panel_width, int panel_height) {
  NEG_CHECK(!panels.empty(), "no panels to plot");
  RgbImage image(panel_width * static_cast<int>(panels.size()), panel_height);
  Canvas canvas(image);
  for (size_t i = 0; i < panels.size(); ++i) {
    draw_panel(canvas, panels[i], static_cast<int>(i) * panel_width, 0, panel_width, panel_height);
    canvas.clear_clip();
  }
  return image;
}

std::vector<CurvePanel> training_curve_panels(const std::vector<nlohmann::json>& records,
                                              const std::vector<std::string>& eval_metrics) {
  SeriesSet losses, evals;
  double last_step = -INFINITY;
  for (const auto& record : records) {
    if (!record.is_object() || !record.contains("step") || !record["step"].is_number()) continue;
    const std::string type = record.value("type", std::string());
    if (type != "train" && type != "eval") continue;
    const double step = record["step"].get<double>();
    if (step < last_step) {  // a later run in the same output_dir restarted from an earlier step
      losses.truncate_from(step);
      evals.truncate_from(step);
    }
    last_step = step;
    if (type == "train") {
      if (!record.contains("loss") || !record["loss"].is_number()) continue;
      const auto dataset = record.find("dataset");
      const std::string name = dataset != record.end() && dataset->is_string() ? dataset->get<std::string>() : "train";
      losses.add(name, step, record["loss"].get<double>());
    } else {
      for (const auto& [key, value] : record.items()) {
        if (key != "type" && key != "step" && value.is_number()) evals.add(key, step, value.get<double>());
      }
    }
  }
  CurvePanel loss_panel{"training loss (logged window mean)", "step", "loss", losses.series(), false,
                        "no training records"};
  std::vector<CurveSeries> selected;
  for (const auto& series : evals.series()) {
    for (const auto& pattern : eval_metrics) {
      if (!pattern.empty() && series.name.find(pattern) != std::string::npos) {
        selected.push_back(series);
        break;
      }
    }
  }
  if (selected.empty()) {
    for (const auto& series : evals.series()) {
      if (selected.size() < 8) selected.push_back(series);
    }
  }
  CurvePanel eval_panel{"evaluation", "step", "", std::move(selected), true, "no evaluation records"};
  return {std::move(loss_panel), std::move(eval_panel)};
}

std::vector<nlohmann::json> read_metrics_jsonl(const std::string& path) {
  std::ifstream in(path);
  NEG_CHECK(in, "cannot open metrics file ", path);
  std::vector<nlohmann::json> records;
  std::string line;
  while (std::getline(in, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json record = nlohmann::json::parse(line, nullptr, false);
    if (!record.is_discarded() && record.is_object()) records.push_back(std::move(record));
  }
  return records;
}

RgbImage render_training_curves(const std::string& metrics_path, const std::vector<std::string>& eval_metrics) {
  return render_curve_panels(training_curve_panels(read_metrics_jsonl(metrics_path), eval_metrics));
}

}  // namespace negatron::report
