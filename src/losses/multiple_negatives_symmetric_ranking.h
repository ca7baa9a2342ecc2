#pragma once
// MultipleNegativesSymmetricRankingLoss: a registration, not a formula. sentence-transformers 6
// implements (and deprecates) it as MultipleNegativesRankingLoss with
// directions {query_to_doc, doc_to_query} and partition_mode per_direction; so does negatron.
// Parameters: scale, similarity_fct, gather_across_devices, tile_size. Inputs and distributed layout: see
// multiple_negatives_ranking.h (hard negatives, if given, join the query_to_doc candidates as in ST).
// Reference: sentence_transformers/sentence_transformer/losses/multiple_negatives_symmetric_ranking.py.
#include "losses/multiple_negatives_ranking.h"

namespace negatron::losses {

/// MultipleNegativesRankingOptions with the symmetric directions, reading only the shared parameters.
struct MultipleNegativesSymmetricRankingOptions : MultipleNegativesRankingOptions {
  MultipleNegativesSymmetricRankingOptions();
  template <class V>
  void visit(V& v) {
    visit_common(v);
  }
};

}  // namespace negatron::losses
