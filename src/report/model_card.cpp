#include "report/model_card.h"

#include <iomanip>
#include <set>
#include <sstream>

#include "common/atomic_file.h"
#include "common/check.h"

namespace negatron::report {
namespace {

std::string format_number(double value) {
  std::ostringstream out;
  out << std::setprecision(4) << std::fixed << value;
  return out.str();
}

void front_matter(std::ostringstream& out, const ModelCard& card) {
  out << "---\n";
  out << "tags:\n- sentence-transformers\n- sentence-similarity\n- feature-extraction\n- negatron\n";
  int64_t rows = 0;
  std::set<std::string> loss_names;
  for (const auto& d : card.datasets) {
    rows += d.rows;
    loss_names.insert(d.loss.value("name", "unknown"));
  }
  out << "- dataset_size:" << rows << "\n";
  for (const auto& name : loss_names) out << "- loss:" << name << "\n";
  if (!card.base_model.empty()) out << "base_model: " << nlohmann::json(card.base_model).dump() << "\n";
  out << "pipeline_tag: sentence-similarity\nlibrary_name: sentence-transformers\n";
  if (!card.final_metrics.empty()) {
    out << "metrics:\n";
    for (const auto& [name, value] : card.final_metrics) out << "- " << name << "\n";
  }
  out << "---\n\n";
}

void model_details(std::ostringstream& out, const ModelCard& card) {
  out << "# Sentence Transformer model" << (card.base_model.empty() ? "" : " based on " + card.base_model) << "\n\n";
  out << "This is a [sentence-transformers](https://www.SBERT.net) model trained with negatron"
      << (card.base_model.empty() ? "" : " from `" + card.base_model + "`") << ". It maps sentences to a "
      << card.embedding_dimension << "-dimensional dense vector space for semantic search, similarity and "
      << "clustering.\n\n";
  out << "## Model Details\n\n### Model Description\n";
  out << "- **Model Type:** Sentence Transformer\n";
  if (!card.base_model.empty()) out << "- **Base model:** `" << card.base_model << "`\n";
  out << "- **Maximum Sequence Length:** " << card.max_seq_length << " tokens\n";
  out << "- **Output Dimensionality:** " << card.embedding_dimension << " dimensions\n";
  out << "- **Similarity Function:** " << card.similarity_fn_name << "\n";
  out << "- **Training Dataset" << (card.datasets.size() > 1 ? "s" : "") << ":**\n";
  for (const auto& d : card.datasets) out << "    - " << d.name << "\n";
  out << "\n### Full Model Architecture\n\n```\n";
  for (size_t i = 0; i < card.architecture.size(); ++i) out << "(" << i << "): " << card.architecture[i] << "\n";
  out << "```\n\n";
}

void usage(std::ostringstream& out) {
  out << "## Usage\n\n### Direct Usage (Sentence Transformers)\n\n```bash\npip install -U sentence-transformers\n```\n\n"
      << "```python\nfrom sentence_transformers import SentenceTransformer\n\n"
      << "model = SentenceTransformer(\"path/to/this/folder\")\n"
      << "sentences = [\n    \"The weather is lovely today.\",\n    \"It's so sunny outside!\",\n"
      << "    \"He drove to the stadium.\",\n]\n"
      << "embeddings = model.encode(sentences)\nprint(embeddings.shape)\n\n"
      << "similarities = model.similarity(embeddings, embeddings)\nprint(similarities.shape)\n```\n\n";
}

void evaluation(std::ostringstream& out, const ModelCard& card) {
  if (card.final_metrics.empty()) return;
  out << "## Evaluation\n\n### Metrics\n\n| Metric | Before training | After training |\n|:--|--:|--:|\n";
  for (const auto& [name, value] : card.final_metrics) {
    const auto before = card.initial_metrics.find(name);
    out << "| " << name << " | " << (before == card.initial_metrics.end() ? "" : format_number(before->second))
        << " | **" << format_number(value) << "** |\n";
  }
  out << "\n";
}

void training_details(std::ostringstream& out, const ModelCard& card) {
  out << "## Training Details\n\n### Training Dataset" << (card.datasets.size() > 1 ? "s" : "") << "\n\n";
  for (const auto& d : card.datasets) {
    out << "#### " << d.name << "\n\n";
    out << "* Dataset: `" << d.path << "`\n";
    out << "* Size: " << d.rows << " training samples\n";
    if (!d.columns.empty()) {
      out << "* Columns: ";
      for (size_t i = 0; i < d.columns.size(); ++i) out << (i ? ", " : "") << "<code>" << d.columns[i] << "</code>";
      out << "\n";
    }
    nlohmann::json parameters = d.loss;
    const std::string loss_name = parameters.value("name", "unknown");
    parameters.erase("name");
    out << "* Loss: <code>" << loss_name << "</code> with these parameters:\n  ```json\n";
    std::istringstream lines(parameters.dump(4, ' '));
    for (std::string line; std::getline(lines, line);) out << "  " << line << "\n";
    out << "  ```\n\n";
  }
  out << "### Training Hyperparameters\n\n";
  out << "- ranks: " << card.world_size << "\n- steps: " << card.steps << "\n\n";
  out << "<details><summary>Click to expand</summary>\n\n";
  for (const auto& [key, value] : card.training_arguments.items()) {
    out << "- `" << key << "`: " << (value.is_string() ? value.get<std::string>() : value.dump()) << "\n";
  }
  out << "\n</details>\n\n";
  out << "### Framework Versions\n\n- negatron: " << card.negatron_version << "\n\n";
}

}  // namespace

std::string render_model_card(const ModelCard& card) {
  std::ostringstream out;
  front_matter(out, card);
  model_details(out, card);
  usage(out);
  evaluation(out, card);
  training_details(out, card);
  return out.str();
}

void write_model_card(const std::string& model_dir, const ModelCard& card) {
  write_file_atomically(model_dir + "/README.md", render_model_card(card));
}

}  // namespace negatron::report
