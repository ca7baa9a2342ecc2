#pragma once
// The training configuration: one tree of option structs, each field with its default written once,
// here, and documented. A YAML file maps onto this tree key by key (config_io.cpp); unknown keys are
// errors that name the key path and suggest the nearest valid key; `--set a.b=c` overrides any leaf.
// Names follow sentence-transformers / transformers training arguments where one exists.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace negatron::train {

struct ModelOptions {
  std::string path;            // sentence-transformers folder (or plain HF folder)
  int64_t max_seq_length = 0;  // 0: the model's own
  bool dropout = true;         // false: train with dropout off (deterministic equivalence tests)
  std::string dtype = "float32";  // float64: exact-arithmetic checks (W ranks == 1 rank)
  template <class V> void visit(V& v) {
    v("path", path, "model folder to start from");
    v("max_seq_length", max_seq_length, "truncate inputs to this many tokens (0: the model's own)");
    v("dropout", dropout, "apply the model's dropout while training (false: deterministic runs)");
    v("dtype", dtype, "parameter dtype while training: float32 | float64 (for exactness checks)");
  }
};

struct DatasetOptions {
  std::string name;            // used in logs and metrics
  std::string path;            // a dataset folder written by `negatron prepare`
  nlohmann::json loss = {{"name", "MultipleNegativesRankingLoss"}};  // {"name": ..., params...}
  double weight = 1.0;         // PROPORTIONAL sampling weight multiplier
  template <class V> void visit(V& v) {
    v("name", name, "dataset name for logs and metrics");
    v("path", path, "dataset folder written by `negatron prepare`");
    v("loss", loss,
      "loss for this dataset: {name: <LossClass>, <parameters>}; read with every default filled in "
      "(`negatron loss --name <LossClass> --help` lists them)");
    v("weight", weight, "relative weight under the proportional multi-dataset sampler");
  }
};

struct EvaluatorOptions {
  std::string type = "EmbeddingSimilarityEvaluator";  // or TripletEvaluator, BinaryClassificationEvaluator, InformationRetrievalEvaluator
  std::string name;                                    // metric prefix, e.g. "sts-test"
  std::string path;                                    // input file (.tsv/.csv/.jsonl)
  std::vector<std::string> columns;                    // text columns, in the evaluator's order
  std::string score_column;                            // gold score / label column
  double score_scale = 1.0;                            // gold scores are divided by this (STS-B: 5)
  std::string positive_label;                          // BinaryClassification: this label is 1, others 0
  std::string corpus_path;                             // InformationRetrieval, BEIR layout: corpus file
  std::string qrels_path;                              // InformationRetrieval, BEIR layout: qrels file
  std::vector<std::string> similarity_fn_names;        // BinaryClassification / InformationRetrieval
  int64_t corpus_chunk_size = 50000;                   // InformationRetrieval: corpus texts scored at once
  std::string format;                                  // "" = from the extension; STS-B .csv is "tsv"
  bool has_header = true;
  int64_t batch_size = 64;
  template <class V> void visit(V& v) {
    v("type", type,
      "EmbeddingSimilarityEvaluator | TripletEvaluator | BinaryClassificationEvaluator | "
      "InformationRetrievalEvaluator");
    v("name", name, "metric prefix (sentence-transformers style: <name>_spearman_cosine)");
    v("path", path,
      "input file: .tsv, .csv or .jsonl (InformationRetrievalEvaluator with corpus_path: the queries file, "
      "keys/columns _id and text)");
    v("columns", columns,
      "text columns (pairs: 2, triplets: anchor, positive, negative; InformationRetrievalEvaluator without "
      "corpus_path: query, relevant document, then any further corpus-only columns such as hard negatives; "
      "texts are their own ids and the corpus is every distinct document text of those columns)");
    v("score_column", score_column, "gold score or label column (pairs; BinaryClassificationEvaluator: 0/1 label)");
    v("score_scale", score_scale, "divide gold scores by this (STS-B scores are 0..5)");
    v("positive_label", positive_label,
      "BinaryClassificationEvaluator: label text counted as 1, every other label 0 (empty: labels must be 0 or 1)");
    v("corpus_path", corpus_path,
      "InformationRetrievalEvaluator, BEIR layout: corpus .jsonl/.tsv with _id and text (title is not used; "
      "format from the extension); then path is the queries file (_id, text) and qrels_path is required");
    v("qrels_path", qrels_path,
      "InformationRetrievalEvaluator, BEIR layout: .tsv with header query-id, corpus-id[, score]; rows with "
      "score <= 0 are not relevant; every id must exist in the queries / corpus file");
    v("similarity_fn_names", similarity_fn_names,
      "cosine | dot | euclidean | manhattan, for BinaryClassificationEvaluator (empty: all four) and "
      "InformationRetrievalEvaluator (empty: cosine, dot)");
    v("corpus_chunk_size", corpus_chunk_size,
      "InformationRetrievalEvaluator: corpus texts encoded and scored at once (a running top-k is kept)");
    v("format", format, "input format: txt | jsonl | csv | tsv (empty: from the file extension)");
    v("has_header", has_header, "whether .tsv/.csv input has a header line (else columns are 0, 1, ...)");
    v("batch_size", batch_size, "encode batch size");
  }
};

struct TrainingOptions {
  int64_t per_device_train_batch_size = 32;
  double learning_rate = 5e-5;
  double weight_decay = 0.0;
  double adam_beta1 = 0.9;
  double adam_beta2 = 0.999;
  double adam_epsilon = 1e-8;
  double warmup_ratio = 0.0;
  int64_t warmup_steps = 0;  // wins over warmup_ratio when > 0
  std::string lr_scheduler_type = "linear";
  double num_train_epochs = 1.0;
  int64_t max_steps = -1;    // > 0 wins over num_train_epochs
  double max_grad_norm = 1.0;
  int64_t seed = 42;
  bool bf16 = false;
  bool fp16 = false;
  int64_t eval_steps = 0;    // 0: evaluate only before and after training
  int64_t save_steps = 0;    // 0: save only at the end
  int64_t save_total_limit = 0;  // 0: keep every checkpoint
  int64_t logging_steps = 10;
  std::vector<std::string> report_to;  // [] | [tensorboard]
  std::string logging_dir;             // "": <output_dir>/runs/<date>-<time>_<host>
  std::string batch_sampler = "batch_sampler";
  std::string multi_dataset_batch_sampler = "proportional";
  std::string nan_policy = "abort";  // abort | skip
  std::vector<std::string> frozen_parameters;  // prefixes of parameter names to freeze
  std::string metric_for_best_model;
  bool greater_is_better = true;
  int64_t threads = 0;       // intra-op CPU threads per rank (0: torch default)
  template <class V> void visit(V& v) {
    v("per_device_train_batch_size", per_device_train_batch_size, "examples per rank per step (global = x world size)");
    v("learning_rate", learning_rate, "peak AdamW learning rate");
    v("weight_decay", weight_decay, "decoupled weight decay (not applied to biases and LayerNorm weights)");
    v("adam_beta1", adam_beta1, "AdamW beta1");
    v("adam_beta2", adam_beta2, "AdamW beta2");
    v("adam_epsilon", adam_epsilon, "AdamW epsilon");
    v("warmup_ratio", warmup_ratio, "fraction of steps with linear warmup");
    v("warmup_steps", warmup_steps, "warmup steps (overrides warmup_ratio when > 0)");
    v("lr_scheduler_type", lr_scheduler_type, "linear | cosine | constant | constant_with_warmup");
    v("num_train_epochs", num_train_epochs, "epochs (fractional allowed)");
    v("max_steps", max_steps, "total optimizer steps (overrides num_train_epochs when > 0)");
    v("max_grad_norm", max_grad_norm, "global gradient-norm clip (0: off)");
    v("seed", seed, "seed of model init, sampling and dropout");
    v("bf16", bf16, "bf16 autocast of the encoder forward on GPU (float32 on CPU, with a warning)");
    v("fp16", fp16, "fp16: refused on GPU (no loss scaling; use bf16), float32 on CPU with a warning");
    v("eval_steps", eval_steps, "evaluate every N steps (0: before and after training only)");
    v("save_steps", save_steps, "checkpoint every N steps (0: at the end only)");
    v("save_total_limit", save_total_limit, "keep at most N checkpoints (0: all); the best is kept");
    v("logging_steps", logging_steps, "log and write metrics every N steps");
    v("report_to", report_to, "where metrics go besides metrics.jsonl: [] or [tensorboard] (event files in logging_dir)");
    v("logging_dir", logging_dir, "TensorBoard folder (empty: <output_dir>/runs/<date>-<time>_<host>)");
    v("batch_sampler", batch_sampler, "batch_sampler | no_duplicates | group_by_label");
    v("multi_dataset_batch_sampler", multi_dataset_batch_sampler, "proportional | round_robin");
    v("nan_policy", nan_policy, "on a NaN/Inf loss or gradient: abort | skip (the step is skipped and counted)");
    v("frozen_parameters", frozen_parameters, "parameter-name prefixes to freeze, e.g. transformer.embeddings");
    v("metric_for_best_model", metric_for_best_model, "evaluation metric that picks the best checkpoint");
    v("greater_is_better", greater_is_better, "whether a larger metric_for_best_model is better");
    v("threads", threads, "intra-op CPU threads per rank (0: torch default)");
  }
};

struct DistributedOptions {
  std::string backend = "auto";  // auto | mpi | nccl | local
  bool gather_across_devices = true;
  int64_t check_replicas_every = 0;  // debug: compare replicas every N steps (0: off)
  double collective_timeout_s = 600;
  std::string overlap_grad_reduce = "auto";  // auto | true | false
  bool balance_tokens = true;
  template <class V> void visit(V& v) {
    v("backend", backend, "auto (nccl on GPU, mpi on CPU) | mpi | nccl | local");
    v("gather_across_devices", gather_across_devices, "in-batch negatives from every rank (default on)");
    v("check_replicas_every", check_replicas_every, "debug: verify replicas are identical every N steps");
    v("collective_timeout_s", collective_timeout_s, "abort the job if one collective waits longer (0: off)");
    v("overlap_grad_reduce", overlap_grad_reduce,
      "auto | true | false: average gradients in buckets started during backward (auto: on with nccl, off with "
      "mpi, where MPI makes no progress in the background)");
    v("balance_tokens", balance_tokens,
      "split each global batch over ranks by token count, so no rank waits for a rank with longer texts "
      "(false: rank r takes the r-th slice)");
  }
};

struct TrainConfig {
  ModelOptions model;
  std::vector<DatasetOptions> datasets;
  std::vector<EvaluatorOptions> evaluators;
  TrainingOptions training;
  DistributedOptions distributed;
  std::string output_dir = "output";
  std::string device = "auto";  // auto | cpu | cuda
  template <class V> void visit(V& v) {
    v("model", model, "model to fine-tune");
    v("datasets", datasets, "training datasets, each with its own loss");
    v("evaluators", evaluators, "evaluations before, during and after training");
    v("training", training, "optimisation and schedule");
    v("distributed", distributed, "multi-rank settings");
    v("output_dir", output_dir, "checkpoints, final model, metrics.jsonl, plot");
    v("device", device, "auto | cpu | cuda");
  }
};

}  // namespace negatron::train
