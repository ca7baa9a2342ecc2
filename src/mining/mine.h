#pragma once
// `negatron mine` as a library call: hard negatives for a dataset of (anchor, positive) rows, written
// as a prepared dataset (the shards `negatron prepare` writes) of triplets (anchor, positive, negative)
// or n-tuples (anchor, positive, negative_1..negative_n), optionally with a float32_vector label
// "scores" = [positive score, negative scores...]. Rows come in mine_hard_negatives' order: anchors by
// first appearance, then each anchor's distinct positives, then (triplets) its negatives best first.
//
// On N ranks: every rank reads the texts; rank r encodes every N-th batch of the corpus and keeps
// those rows (ShardedCorpus); queries go in chunks sized so that chunk x slice scores fit
// options.score_memory_mb, each chunk's batches encoded across the ranks the same way and
// all-gathered; exact top-k per rank, merged across ranks; the choice of negatives
// (negative_selection.h) is then the same on every rank, and rank r tokenizes and writes shards
// r, r + N, ... (DatasetWriter publishes them once all are written). Encoder batches do not depend on
// N (batched_encoding.h), so neither do the embeddings, and the dataset is byte for byte the same at
// any rank count.
#include <ATen/ATen.h>

#include <cstdint>

#include "distributed/communicator.h"
#include "mining/mine_options.h"
#include "model/sentence_encoder.h"

namespace negatron::mining {

struct MineResult {
  int64_t rows = 0;             // output rows
  int64_t queries = 0, corpus = 0;
  int64_t skipped_rows = 0;     // bad input rows
  int64_t missing = 0;          // (query, positive) pairs short of negatives (triplet: negative slots)
  double seconds = 0;
};

/// Collective over `comm`. `encoder` runs on `device`; embeddings are normalized (as ST mines).
MineResult mine_hard_negatives(const MineOptions& options, model::SentenceEncoder& encoder, at::Device device,
                               distributed::Communicator& comm);

}  // namespace negatron::mining
