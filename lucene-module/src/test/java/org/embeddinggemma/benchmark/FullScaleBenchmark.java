package org.embeddinggemma.benchmark;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.lucene.util.VectorUtil;
import org.embeddinggemma.engine.EmbedderSettings;
import org.embeddinggemma.engine.Embedding;
import org.embeddinggemma.engine.EmbeddingInput;
import org.embeddinggemma.engine.Task;
import org.embeddinggemma.engine.TextEmbedder;
import org.embeddinggemma.engine.TokenizedText;
import org.embeddinggemma.testing.Corpus;
import org.embeddinggemma.testing.FullScaleGemma;
import org.embeddinggemma.testing.TestModels;

/**
 * The engine against bare ONNX Runtime on the full-scale EmbeddingGemma graph ({@link
 * org.embeddinggemma.testing.FullScaleGemma}), in one JVM, on the same token ids: batched as the
 * engine batches them, and one text per run; at three lengths. Also the time to load the model
 * against a bare session's, and the 8- and 4-bit MatMulNBits variants against fp32 (speed and
 * cosine). Run with {@code bin/benchmark full-scale}; prints the ratios.
 */
public final class FullScaleBenchmark {

  private FullScaleBenchmark() {}

  public static void main(String[] args) throws Exception {
    int threads = args.length > 0 ? Integer.parseInt(args[0]) : 2;
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 2;
    Path model = TestModels.gemmaFullScale();
    Path graph = model.resolve("onnx/model.onnx");
    EmbedderSettings settings = new EmbedderSettings(threads, 16);
    System.out.printf("full-scale EmbeddingGemma graph (%s), %d intra-op threads, best of %d rounds%n", graph, threads, rounds);

    OrtEnvironment environment = OrtEnvironment.getEnvironment();
    long start = System.nanoTime();
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
      options.setIntraOpNumThreads(threads);
      try (OrtSession warm = environment.createSession(graph.toString(), options)) {
        // The first session pays for reading the weights from disk into the page cache.
      }
    }
    double bareLoad = 0;
    double engineLoad = 0;
    for (int round = 0; round < rounds; round++) {
      start = System.nanoTime();
      try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
        options.setIntraOpNumThreads(threads);
        environment.createSession(graph.toString(), options).close();
      }
      bareLoad = min(bareLoad, (System.nanoTime() - start) / 1e9);
      start = System.nanoTime();
      TextEmbedder.open(model, settings).close();
      engineLoad = min(engineLoad, (System.nanoTime() - start) / 1e9);
    }
    System.out.printf(
        "load: bare session %.2f s | engine (tokenizer, session, probes) %.2f s | ratio %.2fx%n", bareLoad, engineLoad, engineLoad / bareLoad);

    try (TextEmbedder embedder = TextEmbedder.open(model, settings);
        OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
      options.setIntraOpNumThreads(threads);
      List<String> sentences = Corpus.sentences().stream().map(Corpus.Sentence::text).toList();
      List<String> passages = passages(embedder, sentences, 128, 24);
      try (OrtSession bare = environment.createSession(graph.toString(), options)) {
        measure("sentences", sentences.subList(0, 64), embedder, bare, environment, rounds);
        measure("~128 tokens", passages, embedder, bare, environment, rounds);
        measure("~512 tokens", passages(embedder, sentences, 512, 8), embedder, bare, environment, rounds);
      }
      quantisedVariants(embedder, sentences.subList(0, 64), passages, settings, rounds);
    }
  }

  /** Corpus sentences joined until each passage has about {@code tokens} tokens with the document prompt. */
  private static List<String> passages(TextEmbedder embedder, List<String> sentences, int tokens, int count) {
    List<String> passages = new ArrayList<>();
    int next = 0;
    while (passages.size() < count) {
      StringBuilder passage = new StringBuilder();
      do {
        passage.append(sentences.get(next++ % sentences.size())).append(' ');
      } while (embedder.tokenize(document(embedder, passage.toString())).length() < tokens);
      passages.add(passage.toString().strip());
    }
    return passages;
  }

  private static EmbeddingInput document(TextEmbedder embedder, String text) {
    return new EmbeddingInput(text, embedder.prompt(Task.DOCUMENT), null);
  }

  private static void measure(String name, List<String> texts, TextEmbedder embedder, OrtSession bare, OrtEnvironment environment, int rounds)
      throws Exception {
    List<EmbeddingInput> inputs = texts.stream().map(text -> document(embedder, text)).toList();
    List<TokenizedText> tokenized = inputs.stream().map(embedder::tokenize).toList();
    // The engine's batches: sorted by length, maxBatchSize at a time.
    List<TokenizedText> sorted = tokenized.stream().sorted(Comparator.comparingInt(TokenizedText::length)).toList();
    List<List<TokenizedText>> batches = new ArrayList<>();
    for (int i = 0; i < sorted.size(); i += embedder.maxBatchSize()) {
      batches.add(sorted.subList(i, Math.min(sorted.size(), i + embedder.maxBatchSize())));
    }
    double meanTokens = tokenized.stream().mapToInt(TokenizedText::length).average().orElseThrow();

    // Interleaved, so that a slow moment of the machine does not favour one side.
    Runnable[] work = {
      () -> batches.forEach(batch -> run(bare, environment, batch)),
      () -> embedder.embed(inputs, 768),
      () -> tokenized.forEach(text -> run(bare, environment, List.of(text))),
      () -> inputs.forEach(input -> embedder.embed(input, 768))
    };
    double[] best = new double[work.length];
    for (int round = 0; round <= rounds; round++) {
      for (int w = 0; w < work.length; w++) {
        long start = System.nanoTime();
        work[w].run();
        double rate = texts.size() / ((System.nanoTime() - start) / 1e9);
        if (round > 0) { // round 0 warms up
          best[w] = Math.max(best[w], rate);
        }
      }
    }
    System.out.printf(
        "%-12s %3d texts, %6.1f tokens on average | batched: bare %6.2f texts/s, engine %6.2f, ratio %.2fx | one per run: bare %6.2f, engine %6.2f, ratio %.2fx%n",
        name, texts.size(), meanTokens, best[0], best[1], best[1] / best[0], best[2], best[3], best[3] / best[2]);
  }

  /**
   * Each weight-quantised variant against fp32 through the engine: texts per second, whether the
   * engine's probe finds it batch invariant (else it runs one text at a time), and the cosine of its
   * vectors to fp32's.
   */
  private static void quantisedVariants(TextEmbedder fp32, List<String> sentences, List<String> passages, EmbedderSettings settings, int rounds) {
    List<EmbeddingInput> inputs = new ArrayList<>();
    sentences.forEach(text -> inputs.add(document(fp32, text)));
    passages.forEach(text -> inputs.add(document(fp32, text)));
    List<Embedding> reference = fp32.embed(inputs, 768);
    double fp32Rate = rate(fp32, inputs, rounds);
    for (FullScaleGemma.Weights weights : List.of(FullScaleGemma.Weights.Q8, FullScaleGemma.Weights.Q4)) {
      Path directory = TestModels.gemmaFullScale(weights);
      long size = directory.resolve("onnx/" + weights.fileName + "_data").toFile().length();
      try (TextEmbedder variant = TextEmbedder.open(directory, settings)) {
        List<Embedding> vectors = variant.embed(inputs, 768);
        double sum = 0;
        double least = 1;
        for (int i = 0; i < inputs.size(); i++) {
          double cosine = VectorUtil.dotProduct(reference.get(i).vector(), vectors.get(i).vector());
          sum += cosine;
          least = Math.min(least, cosine);
        }
        double variantRate = rate(variant, inputs, rounds);
        System.out.printf(
            "%-4s %s (%d MB of weights): %6.2f texts/s against fp32's %6.2f, ratio %.2fx | batch invariant: %s | cosine to fp32: mean %.4f, least %.4f%n",
            weights, weights.fileName, size >> 20, variantRate, fp32Rate, variantRate / fp32Rate,
            variant.maxBatchSize() > 1, sum / inputs.size(), least);
      }
    }
  }

  private static double rate(TextEmbedder embedder, List<EmbeddingInput> inputs, int rounds) {
    double best = 0;
    for (int round = 0; round <= rounds; round++) {
      long start = System.nanoTime();
      embedder.embed(inputs, 768);
      if (round > 0) {
        best = Math.max(best, inputs.size() / ((System.nanoTime() - start) / 1e9));
      }
    }
    return best;
  }

  /** What a careful user writes with ONNX Runtime's Java API: direct buffers, one output asked for. */
  private static float[][] run(OrtSession session, OrtEnvironment environment, List<TokenizedText> batch) {
    int tokens = batch.stream().mapToInt(TokenizedText::length).max().orElseThrow();
    long[] shape = {batch.size(), tokens};
    LongBuffer ids = ByteBuffer.allocateDirect(batch.size() * tokens * 8).order(ByteOrder.nativeOrder()).asLongBuffer();
    LongBuffer mask = ByteBuffer.allocateDirect(batch.size() * tokens * 8).order(ByteOrder.nativeOrder()).asLongBuffer();
    for (TokenizedText text : batch) {
      for (int t = 0; t < tokens; t++) {
        ids.put(t < text.length() ? text.ids()[t] : 0);
        mask.put(t < text.length() ? 1 : 0);
      }
    }
    ids.rewind();
    mask.rewind();
    try (OnnxTensor idsTensor = OnnxTensor.createTensor(environment, ids, shape);
        OnnxTensor maskTensor = OnnxTensor.createTensor(environment, mask, shape);
        OrtSession.Result result = session.run(Map.of("input_ids", idsTensor, "attention_mask", maskTensor), Set.of("sentence_embedding"))) {
      FloatBuffer values = ((OnnxTensor) result.get(0)).getFloatBuffer();
      float[][] vectors = new float[batch.size()][768];
      for (float[] vector : vectors) {
        values.get(vector);
      }
      return vectors;
    } catch (OrtException e) {
      throw new IllegalStateException(e);
    }
  }

  private static double min(double current, double value) {
    return current == 0 ? value : Math.min(current, value);
  }
}
