package org.embeddinggemma.engine;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.function.Function;
import java.util.stream.IntStream;
import org.embeddinggemma.testing.Corpus;
import org.embeddinggemma.testing.TestModels;
import org.junit.jupiter.api.Test;

/**
 * Measures which int8 scaling keeps the float ranking best, on real sentences and a real model:
 * the per-vector max-abs scaling of {@link Int8Quantization} against a fixed scale of 127 on the
 * unit vector. Prints the figures quoted in {@link Int8Quantization}'s javadoc.
 */
class Int8QuantizationRankingTest {

  static final int K = 10;

  @Test
  void perVectorScalingKeepsTheFloatTopTenBetterThanAFixedScale() {
    List<Corpus.Sentence> sentences = Corpus.sentences();
    float[][] vectors;
    try (TextEmbedder embedder = TextEmbedder.open(TestModels.miniLm(), new EmbedderSettings(2, 16))) {
      vectors =
          embedder.embed(sentences.stream().map(s -> EmbeddingInput.of(s.text(), PromptTemplate.NONE)).toList(), 384).stream()
              .map(Embedding::vector)
              .toArray(float[][]::new);
    }
    double perVector = overlapWithFloatTopK(vectors, Int8Quantization::quantize);
    double fixed = overlapWithFloatTopK(vectors, Int8QuantizationRankingTest::fixedScale);
    System.out.printf("int8 top-%d overlap with float cosine ranking over %d sentences: per-vector max-abs %.4f, fixed 127 %.4f%n", K, vectors.length, perVector, fixed);
    assertTrue(perVector > fixed, "per-vector " + perVector + " vs fixed " + fixed);
    assertTrue(perVector >= 0.9, "per-vector scaling keeps at least 90% of the float top " + K + ": " + perVector);
  }

  /** The alternative measured against: round(127 * v) on the unit vector. */
  static byte[] fixedScale(float[] unit) {
    byte[] quantized = new byte[unit.length];
    for (int i = 0; i < unit.length; i++) {
      quantized[i] = (byte) Math.max(-127, Math.min(127, Math.round(unit[i] * 127)));
    }
    return quantized;
  }

  /** Mean share of each sentence's float top-k neighbours that the int8 cosine top-k keeps. */
  static double overlapWithFloatTopK(float[][] vectors, Function<float[], byte[]> quantizer) {
    byte[][] quantized = Arrays.stream(vectors).map(quantizer).toArray(byte[][]::new);
    double total = 0;
    for (int q = 0; q < vectors.length; q++) {
      int query = q;
      int[] floatTop = topK(vectors.length, query, d -> cosine(vectors[query], vectors[d]));
      int[] byteTop = topK(vectors.length, query, d -> cosine(quantized[query], quantized[d]));
      long kept = Arrays.stream(byteTop).filter(d -> Arrays.stream(floatTop).anyMatch(f -> f == d)).count();
      total += kept / (double) K;
    }
    return total / vectors.length;
  }

  private static int[] topK(int n, int query, java.util.function.IntToDoubleFunction score) {
    return IntStream.range(0, n)
        .filter(d -> d != query)
        .boxed()
        .sorted(Comparator.comparingDouble((Integer d) -> score.applyAsDouble(d)).reversed())
        .limit(K)
        .mapToInt(Integer::intValue)
        .toArray();
  }

  private static double cosine(float[] a, float[] b) {
    double dot = 0, na = 0, nb = 0;
    for (int i = 0; i < a.length; i++) {
      dot += a[i] * b[i];
      na += a[i] * a[i];
      nb += b[i] * b[i];
    }
    return dot / Math.sqrt(na * nb);
  }

  private static double cosine(byte[] a, byte[] b) {
    long dot = 0, na = 0, nb = 0;
    for (int i = 0; i < a.length; i++) {
      dot += a[i] * b[i];
      na += a[i] * a[i];
      nb += b[i] * b[i];
    }
    return dot / Math.sqrt((double) na * nb);
  }
}
