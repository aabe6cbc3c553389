package org.embeddinggemma.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.embeddinggemma.testing.Corpus;
import org.embeddinggemma.testing.TestModels;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The engine on a model of EmbeddingGemma's real size and architecture: 1.23 GB of external
 * weights, the real Gemma 3 tokenizer, inputs up to the 2,048-token window.
 */
class FullScaleModelTest {

  static Path model;
  static TextEmbedder embedder;
  static long loadMillis;

  @BeforeAll
  static void load() {
    model = TestModels.gemmaFullScale();
    long start = System.nanoTime();
    embedder = TextEmbedder.open(model, new EmbedderSettings(2, 8));
    loadMillis = (System.nanoTime() - start) / 1_000_000;
  }

  @AfterAll
  static void close() {
    if (embedder != null) {
      embedder.close();
    }
  }

  @Test
  void loadsWithItsExternalWeights() throws Exception {
    assertTrue(Files.size(model.resolve("onnx/model.onnx_data")) > 1_200_000_000L, "EmbeddingGemma's 1.2 GB of fp32 weights");
    assertEquals(768, embedder.modelDims());
    assertEquals(new ModelWindow(2048, "max_position_embeddings in config.json"), embedder.window());
    assertEquals(PoolingStrategy.SENTENCE_EMBEDDING, embedder.pooling());
    assertTrue(embedder.takesTaskPrompts());
    System.out.printf("full-scale model loaded (tokenizer, session, probes) in %d ms%n", loadMillis);
  }

  @Test
  void differentTextsGetDifferentUnitVectorsWhateverTheirBatch() {
    List<EmbeddingInput> inputs = new ArrayList<>();
    for (Corpus.Sentence sentence : Corpus.sentences().subList(0, 8)) {
      inputs.add(new EmbeddingInput(sentence.text(), embedder.prompt(Task.DOCUMENT), null));
    }
    List<Embedding> batched = embedder.embed(inputs, 768);
    for (int i = 0; i < batched.size(); i++) {
      float[] vector = batched.get(i).vector();
      assertEquals(1.0, dot(vector, vector), 1e-4, "unit length");
      for (float value : vector) {
        assertFalse(Float.isNaN(value) || Float.isInfinite(value));
      }
      float[] alone = embedder.embed(inputs.get(i), 768).vector();
      assertEquals(1.0, dot(vector, alone), 1e-4, "text " + i + " alone and in a batch of 8");
      for (int j = 0; j < i; j++) {
        double cosine = dot(vector, batched.get(j).vector());
        assertTrue(cosine < 0.95, "texts " + j + " and " + i + " have cosine " + cosine);
      }
    }
  }

  /**
   * Each copy of the model uses hundreds of megabytes of native memory (prepacked weights,
   * activations); glibc kept them after a close, so that every reload added as much again (+300 MB
   * a reload here before the engine gave freed memory back). 5 more copies, each opened, used and
   * closed: the process grows by less than one copy's share.
   */
  @Test
  void closedCopiesGiveTheirNativeMemoryBack() throws Exception {
    EmbeddingInput input = new EmbeddingInput("A text for every copy.", embedder.prompt(Task.DOCUMENT), null);
    try (TextEmbedder first = TextEmbedder.open(model, new EmbedderSettings(1, 8))) {
      first.embed(input, 768);
    }
    long before = residentMegabytes();
    for (int i = 0; i < 5; i++) {
      try (TextEmbedder copy = TextEmbedder.open(model, new EmbedderSettings(1, 8))) {
        copy.embed(input, 768);
      }
    }
    long after = residentMegabytes();
    System.out.printf("5 copies opened and closed: RSS %d MB -> %d MB%n", before, after);
    assertTrue(after - before < 250, "RSS grew from " + before + " MB to " + after + " MB over 5 closed copies");
  }

  private static long residentMegabytes() throws java.io.IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024;
      }
    }
    throw new IllegalStateException("no VmRSS in /proc/self/status");
  }

  @Test
  void fillsTheWholeWindowAndTruncatesPastIt() {
    StringBuilder text = new StringBuilder();
    for (int i = 0; text.length() < 16_000; i++) {
      text.append(Corpus.sentences().get(i % Corpus.sentences().size()).text()).append(' ');
    }
    Embedding embedding = embedder.embed(new EmbeddingInput(text.toString(), embedder.prompt(Task.DOCUMENT), null), 256);
    assertEquals(2048, embedding.tokenCount());
    assertTrue(embedding.truncated());
    assertEquals(1.0, dot(embedding.vector(), embedding.vector()), 1e-4);
  }

  private static double dot(float[] a, float[] b) {
    double sum = 0;
    for (int i = 0; i < a.length; i++) {
      sum += a[i] * b[i];
    }
    return sum;
  }
}
