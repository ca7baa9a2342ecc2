#!/usr/bin/env python3
"""Writes two sentence-transformers models with random weights around all-MiniLM-L6-v2's tokenizer, for the
GPU check (benchmarks/gpu_check.sh), where the trained weights cannot be carried:
  minilm_shaped:    BERT, 6 layers, hidden 384, 12 heads, FFN 1536 (all-MiniLM-L6-v2's shape), mean pooling, normalize
  bert_base_shaped: BERT, 12 layers, hidden 768, 12 heads, FFN 3072 (bert-base's shape), mean pooling, normalize
Usage: gpu_models.py TOKENIZER_DIR OUT_DIR"""
import sys
from pathlib import Path

import torch
from sentence_transformers import SentenceTransformer
from sentence_transformers.base.modules import Normalize, Transformer
from sentence_transformers.sentence_transformer.modules import Pooling
from transformers import AutoTokenizer, BertConfig, BertModel

SHAPES = {"minilm_shaped": dict(hidden_size=384, num_hidden_layers=6, num_attention_heads=12, intermediate_size=1536),
          "bert_base_shaped": dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072)}


def main(tokenizer_dir, out_root):
    out_root = Path(out_root)
    for name, shape in SHAPES.items():
        out = out_root / name
        if (out / "modules.json").exists():
            continue
        torch.manual_seed(0)
        hf = out_root / f"{name}_hf"
        BertModel(BertConfig(vocab_size=30522, max_position_embeddings=512, **shape)).save_pretrained(hf)
        AutoTokenizer.from_pretrained(tokenizer_dir).save_pretrained(hf)
        modules = [Transformer(str(hf), max_seq_length=256), Pooling(shape["hidden_size"], pooling_mode="mean"),
                   Normalize()]
        SentenceTransformer(modules=modules, device="cpu").save(str(out))
        print(f"wrote {out}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
