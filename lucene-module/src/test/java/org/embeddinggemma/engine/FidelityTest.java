package org.embeddinggemma.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.embeddinggemma.testing.ReferenceImplementation;
import org.embeddinggemma.testing.TestModels;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The engine against an independent implementation (tokenizers.js + onnxruntime-node, one text at a
 * time): token ids equal, vectors within float rounding.
 */
class FidelityTest {

  /** Cosine similarity below which two vectors of the same model and text are not the same. */
  static final double SAME_VECTOR = 0.99999;

  static final List<String> TEXTS =
      List.of(
          "The quick brown fox jumps over the lazy dog.",
          "Photosynthesis converts light energy into chemical energy stored in glucose.",
          "Wie spät ist es?",
          "東京は日本の首都です。",
          "Emojis 🙂 and accents: café, naïve, Ångström.",
          "  leading and trailing spaces  ",
          "A",
          "def fibonacci(n):\n    return n if n < 2 else fibonacci(n - 1) + fibonacci(n - 2)",
          "Numbers like 3.14159, 2,718 and 1e-9 tokenise in interesting ways.",
          "The Treaty of Westphalia in 1648 ended the Thirty Years' War and reshaped the political map of Europe.");

  static TextEmbedder miniLm;
  static TextEmbedder gemmaExport;
  static TextEmbedder gemmaPlain;

  @BeforeAll
  static void open() {
    EmbedderSettings settings = new EmbedderSettings(2, 4);
    miniLm = TextEmbedder.open(TestModels.miniLmFloat(), settings);
    gemmaExport = TextEmbedder.open(TestModels.gemmaShaped(TestModels.Layout.EXPORT), settings);
    gemmaPlain = TextEmbedder.open(TestModels.gemmaShaped(TestModels.Layout.PLAIN), settings);
  }

  @AfterAll
  static void close() {
    miniLm.close();
    gemmaExport.close();
    gemmaPlain.close();
  }

  @Test
  void miniLmTokensAndVectorsMatchReference() throws Exception {
    List<ReferenceImplementation.Result> expected =
        ReferenceImplementation.run(
            TestModels.miniLmTokenizer(), null, TestModels.miniLmFloatGraph(), "mean", 256, null, TEXTS);
    List<Embedding> actual = miniLm.embed(inputs(TEXTS, PromptTemplate.NONE), miniLm.modelDims());
    assertEquals(384, miniLm.modelDims());
    for (int i = 0; i < TEXTS.size(); i++) {
      assertArrayEquals(expected.get(i).ids(), miniLm.tokenize(EmbeddingInput.of(TEXTS.get(i), PromptTemplate.NONE)).ids(), TEXTS.get(i));
      assertEquals(expected.get(i).ids().length, actual.get(i).tokenCount());
      assertSameVector(expected.get(i).vector(), actual.get(i).vector(), TEXTS.get(i));
    }
  }

  @Test
  void miniLmMatryoshkaTruncationMatchesReference() throws Exception {
    List<ReferenceImplementation.Result> expected =
        ReferenceImplementation.run(
            TestModels.miniLmTokenizer(), null, TestModels.miniLmFloatGraph(), "mean", 256, 128, TEXTS);
    List<Embedding> actual = miniLm.embed(inputs(TEXTS, PromptTemplate.NONE), 128);
    for (int i = 0; i < TEXTS.size(); i++) {
      assertEquals(128, actual.get(i).dims());
      assertSameVector(expected.get(i).vector(), actual.get(i).vector(), TEXTS.get(i));
    }
  }

  @Test
  void gemmaTokenIdsWithTaskPromptsMatchReference() throws Exception {
    // Prompts written out from the EmbeddingGemma model card, independently of Task.
    List<String> prompted = new ArrayList<>();
    List<EmbeddingInput> inputs = new ArrayList<>();
    for (String text : TEXTS) {
      prompted.add("task: search result | query: " + text);
      inputs.add(EmbeddingInput.of(text, gemmaExport.prompt(Task.QUERY)));
      prompted.add("title: none | text: " + text);
      inputs.add(EmbeddingInput.of(text, gemmaExport.prompt(Task.DOCUMENT)));
      prompted.add("title: Modern history | text: " + text);
      inputs.add(new EmbeddingInput(text, gemmaExport.prompt(Task.DOCUMENT), "Modern history"));
      prompted.add("task: code retrieval | query: " + text);
      inputs.add(EmbeddingInput.of(text, gemmaExport.prompt(Task.CODE_RETRIEVAL)));
    }
    List<ReferenceImplementation.Result> expected =
        ReferenceImplementation.run(
            TestModels.gemmaTokenizer(), gemmaTokenizerConfig(), null, null, 2048, null, prompted);
    for (int i = 0; i < prompted.size(); i++) {
      long[] ids = gemmaExport.tokenize(inputs.get(i)).ids();
      assertArrayEquals(expected.get(i).ids(), ids, prompted.get(i));
      assertEquals(2, ids[0], "EmbeddingGemma input starts with <bos>");
      assertEquals(1, ids[ids.length - 1], "EmbeddingGemma input ends with <eos>");
    }
  }

  /**
   * Special tokens written in user text are the characters they spell: only the <bos> and <eos>
   * around the text are special. (sentence-transformers would turn them into the tokens; see
   * README.)
   */
  @Test
  void specialTokensWrittenInTextAreTokenisedAsText() throws Exception {
    List<String> texts =
        List.of(
            "<bos>", "Say <eos> twice: <eos>", "<pad><pad><pad>", "<unk> <start_of_turn>user", "an image: <start_of_image><image_soft_token><end_of_image>",
            "EmbeddingGemma 2 placeholders <|image|> <|audio|> <|video|>");
    List<ReferenceImplementation.Result> expected =
        ReferenceImplementation.run(TestModels.gemmaTokenizer(), gemmaTokenizerConfig(), null, null, 2048, null, texts);
    Set<Long> special = Set.of(0L, 1L, 2L, 3L, 105L, 106L, 255999L, 256000L, 262144L);
    for (int i = 0; i < texts.size(); i++) {
      long[] ids = gemmaExport.tokenize(EmbeddingInput.of(texts.get(i), PromptTemplate.NONE)).ids();
      assertArrayEquals(expected.get(i).ids(), ids, texts.get(i));
      assertEquals(2, ids[0]);
      assertEquals(1, ids[ids.length - 1]);
      for (int k = 1; k < ids.length - 1; k++) {
        assertFalse(special.contains(ids[k]), "token " + k + " of [" + texts.get(i) + "] is special: " + Arrays.toString(ids));
      }
    }
    // BERT's [CLS] and [SEP] likewise.
    long[] ids = miniLm.tokenize(EmbeddingInput.of("[CLS] [SEP] [MASK] [PAD]", PromptTemplate.NONE)).ids();
    assertArrayEquals(
        ReferenceImplementation.run(TestModels.miniLmTokenizer(), null, null, null, 256, null, List.of("[CLS] [SEP] [MASK] [PAD]")).get(0).ids(), ids);
    assertEquals(101, ids[0]);
    assertEquals(102, ids[ids.length - 1]);
    for (int k = 1; k < ids.length - 1; k++) {
      assertFalse(Set.of(0L, 100L, 101L, 102L, 103L).contains(ids[k]), Arrays.toString(ids));
    }
  }

  @Test
  void gemmaShapedVectorsMatchReferenceInBothLayouts() throws Exception {
    List<String> prompted = TEXTS.stream().map(text -> "task: search result | query: " + text).toList();
    Path graph = TestModels.gemmaShaped(TestModels.Layout.EXPORT).resolve("onnx/model.onnx");
    for (int dims : new int[] {768, 512, 256, 128}) {
      List<ReferenceImplementation.Result> expected =
          ReferenceImplementation.run(
              TestModels.gemmaTokenizer(), gemmaTokenizerConfig(), graph, "sentence_embedding", 2048, dims, prompted);
      List<Embedding> fromExport = gemmaExport.embed(inputs(TEXTS, gemmaExport.prompt(Task.QUERY)), dims);
      List<Embedding> fromPlain = gemmaPlain.embed(inputs(TEXTS, gemmaPlain.prompt(Task.QUERY)), dims);
      for (int i = 0; i < TEXTS.size(); i++) {
        assertEquals(dims, fromExport.get(i).dims());
        assertSameVector(expected.get(i).vector(), fromExport.get(i).vector(), prompted.get(i));
        assertSameVector(expected.get(i).vector(), fromPlain.get(i).vector(), prompted.get(i));
      }
    }
  }

  @Test
  void longInputIsTruncatedKeepingEosAndFlagged() throws Exception {
    String longText = "Elasticsearch stores vectors in HNSW graphs for fast approximate search. ".repeat(300);
    List<String> texts = List.of(longText, "short");
    List<ReferenceImplementation.Result> expected =
        ReferenceImplementation.run(
            TestModels.gemmaTokenizer(), gemmaTokenizerConfig(), null, null, 2048, null,
            texts.stream().map(text -> "title: none | text: " + text).toList());
    List<Embedding> embeddings = gemmaExport.embed(inputs(texts, gemmaExport.prompt(Task.DOCUMENT)), 768);

    TokenizedText tokens = gemmaExport.tokenize(EmbeddingInput.of(longText, gemmaExport.prompt(Task.DOCUMENT)));
    assertEquals(2048, tokens.length());
    assertTrue(tokens.truncated());
    assertEquals(1, tokens.ids()[2047], "<eos> survives truncation");
    assertArrayEquals(expected.get(0).ids(), tokens.ids());
    assertTrue(expected.get(0).truncated());
    assertTrue(embeddings.get(0).truncated());
    assertEquals(2048, embeddings.get(0).tokenCount());
    assertEquals(false, embeddings.get(1).truncated());
  }

  @Test
  void batchingAndPaddingDoNotChangeVectors() {
    List<Embedding> batched = miniLm.embed(inputs(TEXTS, PromptTemplate.NONE), 384);
    for (int i = 0; i < TEXTS.size(); i++) {
      Embedding alone = miniLm.embed(EmbeddingInput.of(TEXTS.get(i), PromptTemplate.NONE), 384);
      assertSameVector(alone.vector(), batched.get(i).vector(), TEXTS.get(i));
    }
  }

  @Test
  void dynamicallyQuantisedGraphRunsOneTextAtATimeSoVectorsDoNotDependOnTheBatch() {
    assertEquals(4, miniLm.maxBatchSize(), "fp32 MiniLM batches");
    try (TextEmbedder quantised = TextEmbedder.open(TestModels.miniLm(), new EmbedderSettings(2, 4))) {
      assertEquals(1, quantised.maxBatchSize(), "int8 MiniLM picks its scale per batch");
      List<Embedding> together = quantised.embed(inputs(TEXTS, PromptTemplate.NONE), 384);
      for (int i = 0; i < TEXTS.size(); i++) {
        Embedding alone = quantised.embed(EmbeddingInput.of(TEXTS.get(i), PromptTemplate.NONE), 384);
        assertArrayEquals(alone.vector(), together.get(i).vector(), TEXTS.get(i));
      }
    }
  }

  private static Path gemmaTokenizerConfig() {
    return TestModels.gemmaShaped(TestModels.Layout.EXPORT).resolve("tokenizer_config.json");
  }

  private static List<EmbeddingInput> inputs(List<String> texts, PromptTemplate prompt) {
    return texts.stream().map(text -> EmbeddingInput.of(text, prompt)).toList();
  }

  static void assertSameVector(float[] expected, float[] actual, String text) {
    double cosine = ReferenceImplementation.cosine(expected, actual);
    assertTrue(cosine >= SAME_VECTOR, "cosine " + cosine + " for [" + text + "]");
  }
}
