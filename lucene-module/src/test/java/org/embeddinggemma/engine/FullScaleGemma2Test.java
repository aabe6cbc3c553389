package org.embeddinggemma.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.embeddinggemma.testing.Corpus;
import org.embeddinggemma.testing.FullScaleGemma2;
import org.embeddinggemma.testing.ReferenceImplementation;
import org.embeddinggemma.testing.TestModels;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The engine on EmbeddingGemma 2's text architecture at full size ({@link FullScaleGemma2}: 271M
 * parameters, {@code com.microsoft.RotaryEmbedding}, the official export's five inputs), against
 * the independent reference (tokenizers.js and onnxruntime-node, one text at a time) on the same
 * graph and v2's stand-in tokenizer (the real Gemma 3 tokenizer with v2's placeholders).
 */
class FullScaleGemma2Test {

  static Path model;
  static TextEmbedder embedder;

  @BeforeAll
  static void load() {
    model = TestModels.gemma2FullScale(FullScaleGemma2.Variant.OFFICIAL);
    embedder = TextEmbedder.open(model, new EmbedderSettings(2, 8));
  }

  @AfterAll
  static void close() {
    if (embedder != null) {
      embedder.close();
    }
  }

  @Test
  void loadsAsTheOfficialExportWithItsWeights() throws Exception {
    assertTrue(Files.size(model.resolve("onnx/model.onnx_data")) > 1_070_000_000L, "EmbeddingGemma 2's 1.08 GB of fp32 weights");
    assertEquals(768, embedder.modelDims());
    assertEquals(8192, embedder.maxTokens());
    assertEquals(3, embedder.graphInputs().emptyMediaInputs().size());
    assertEquals(8, embedder.maxBatchSize(), "batch invariant: batched like any fp32 graph");
  }

  /**
   * Token ids identical and vectors within float rounding at every Matryoshka size, for texts of a
   * few tokens to about 300, each embedded in the engine's batches and alone.
   */
  @Test
  void vectorsMatchTheReferenceAloneAndInBatches() throws Exception {
    List<String> texts = new ArrayList<>();
    for (Corpus.Sentence sentence : Corpus.sentences().subList(0, 6)) {
      texts.add(sentence.text());
    }
    texts.add("A caption quoting <|image|> and <|audio|>, which are text here.");
    texts.add(passage(1_500));
    List<String> prompted = texts.stream().map(text -> "title: none | text: " + text).toList();
    List<EmbeddingInput> inputs = texts.stream().map(text -> EmbeddingInput.of(text, embedder.prompt(Task.DOCUMENT))).toList();
    List<ReferenceImplementation.Result> full = reference(prompted, 768);
    for (int dims : new int[] {768, 512, 256, 128}) {
      List<Embedding> batched = embedder.embed(inputs, dims);
      for (int i = 0; i < texts.size(); i++) {
        float[] expected = truncated(full.get(i).vector(), dims);
        assertEquals(dims, batched.get(i).dims());
        FidelityTest.assertSameVector(expected, batched.get(i).vector(), dims + " dims, batched: " + prompted.get(i));
        if (dims == 256) {
          FidelityTest.assertSameVector(expected, embedder.embed(inputs.get(i), dims).vector(), dims + " dims, alone: " + prompted.get(i));
        }
      }
    }
    for (int i = 0; i < texts.size(); i++) {
      assertArrayEquals(full.get(i).ids(), embedder.tokenize(inputs.get(i)).ids(), prompted.get(i));
    }
    assertTrue(embedder.tokenize(inputs.get(inputs.size() - 1)).length() > 250, "a passage of about 300 tokens");
    List<Embedding> vectors = embedder.embed(inputs, 768);
    for (int i = 0; i < vectors.size(); i++) {
      for (int j = 0; j < i; j++) {
        double cosine = ReferenceImplementation.cosine(vectors.get(i).vector(), vectors.get(j).vector());
        assertTrue(cosine < 0.95, "texts " + j + " and " + i + " have cosine " + cosine);
      }
    }
  }

  /** A text of the whole 8,192-token window (about 1.5 minutes each side on 2 cores). */
  @Test
  void aTextOfTheWholeWindowMatchesTheReference() throws Exception {
    String text = passage(60_000);
    EmbeddingInput input = EmbeddingInput.of(text, embedder.prompt(Task.QUERY));
    List<ReferenceImplementation.Result> expected = reference(List.of("task: search result | query: " + text), 768);
    TokenizedText tokens = embedder.prepare(input);
    assertEquals(8192, tokens.length());
    assertTrue(tokens.truncated());
    assertArrayEquals(expected.get(0).ids(), tokens.ids());
    Embedding embedding = embedder.embedTokenized(List.of(tokens), 768).get(0);
    FidelityTest.assertSameVector(expected.get(0).vector(), embedding.vector(), "8,192 tokens");
  }

  private static List<ReferenceImplementation.Result> reference(List<String> prompted, int dims) throws Exception {
    return ReferenceImplementation.run(
        model.resolve("tokenizer.json"), model.resolve("tokenizer_config.json"), model.resolve("onnx/model.onnx"), "sentence_embedding", 8192, dims,
        prompted);
  }

  /** The corpus's sentences, repeated, up to about {@code characters}. */
  private static String passage(int characters) {
    StringBuilder passage = new StringBuilder();
    while (passage.length() < characters) {
      for (Corpus.Sentence sentence : Corpus.sentences()) {
        passage.append(sentence.text()).append(' ');
        if (passage.length() >= characters) {
          break;
        }
      }
    }
    return passage.toString().trim();
  }

  /** The first {@code dims} components, normalised again: Matryoshka truncation, written out here. */
  private static float[] truncated(float[] vector, int dims) {
    double norm = 0;
    for (int i = 0; i < dims; i++) {
      norm += vector[i] * vector[i];
    }
    float[] truncated = new float[dims];
    for (int i = 0; i < dims; i++) {
      truncated[i] = (float) (vector[i] / Math.sqrt(norm));
    }
    return truncated;
  }

  /** A re-export with only the text inputs computes the same vectors. */
  @Test
  void theTextOnlyReExportGivesTheSameVectors() {
    List<EmbeddingInput> inputs = Corpus.sentences().subList(10, 14).stream()
        .map(sentence -> EmbeddingInput.of(sentence.text(), embedder.prompt(Task.QUERY))).toList();
    List<Embedding> official = embedder.embed(inputs, 768);
    try (TextEmbedder textOnly = TextEmbedder.open(TestModels.gemma2FullScale(FullScaleGemma2.Variant.TEXT_ONLY), new EmbedderSettings(2, 8))) {
      assertEquals(List.of(), textOnly.graphInputs().emptyMediaInputs());
      List<Embedding> fromTextOnly = textOnly.embed(inputs, 768);
      for (int i = 0; i < inputs.size(); i++) {
        FidelityTest.assertSameVector(official.get(i).vector(), fromTextOnly.get(i).vector(), inputs.get(i).text());
      }
    }
  }
}
