#pragma once
// Training-curve plots drawn without a plotting library: line charts rasterised into an RGB image
// (axes, grid, numeric ticks, legend, a built-in 5x7 bitmap font) and saved as PNG. The trainer
// writes <output_dir>/training_curves.png from metrics.jsonl at the end of a run.
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "report/png_writer.h"

namespace negatron::report {

struct CurveSeries {
  std::string name;
  std::vector<std::pair<double, double>> points;  // (x, y), drawn in order; non-finite points are skipped
};

struct CurvePanel {
  std::string title;
  std::string x_label;
  std::string y_label;
  std::vector<CurveSeries> series;
  bool markers = false;         // a dot at every point (few points, e.g. evaluations)
  std::string empty_message;    // shown when no series has a finite point
};

/// The panels side by side, each panel_width x panel_height pixels.
RgbImage render_curve_panels(const std::vector<CurvePanel>& panels, int panel_width = 640, int panel_height = 440);

/// Two panels from metrics.jsonl records: training loss per dataset ("type": "train"), and
/// evaluation metrics over steps ("type": "eval"). Evaluation metrics whose name contains one of
/// `eval_metrics` are plotted; if none match (or the list is empty), every evaluation metric is
/// (at most 8). Records of a resumed or restarted run that go back in steps replace the later
/// points of the earlier run.
std::vector<CurvePanel> training_curve_panels(const std::vector<nlohmann::json>& records,
                                              const std::vector<std::string>& eval_metrics);

/// The records of a metrics.jsonl file; lines that do not parse (a run killed mid-write) are skipped.
std::vector<nlohmann::json> read_metrics_jsonl(const std::string& path);

/// The two-panel plot of the metrics file `metrics_path` (write it with write_png).
RgbImage render_training_curves(const std::string& metrics_path, const std::vector<std::string>& eval_metrics = {});

}  // namespace negatron::report
