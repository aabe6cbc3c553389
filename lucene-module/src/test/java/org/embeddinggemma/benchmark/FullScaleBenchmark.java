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
import org.embeddinggemma.engine.EmbedderSettings;
import org.embeddinggemma.engine.EmbeddingInput;
import org.embeddinggemma.engine.Task;
import org.embeddinggemma.engine.TextEmbedder;
import org.embeddinggemma.engine.TokenizedText;
import org.embeddinggemma.testing.Corpus;
import org.embeddinggemma.testing.TestModels;

/**
 * The engine against bare ONNX Runtime on the full-scale EmbeddingGemma graph ({@link
 * org.embeddinggemma.testing.FullScaleGemma}), in one JVM, on the same token ids: batched as the
 * engine batches them, and one text per run; at three lengths. Also the time to load the model
 * against a bare session's. Run with {@code bin/benchmark full-scale}; prints the ratios.
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
      try (OrtSession bare = environment.createSession(graph.toString(), options)) {
        List<String> sentences = Corpus.sentences().stream().map(Corpus.Sentence::text).toList();
        measure("sentences", sentences.subList(0, 64), embedder, bare, environment, rounds);
        measure("~128 tokens", passages(embedder, sentences, 128, 24), embedder, bare, environment, rounds);
        measure("~512 tokens", passages(embedder, sentences, 512, 8), embedder, bare, environment, rounds);
      }
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

    double bareBatched = best(rounds, texts.size(), () -> batches.forEach(batch -> run(bare, environment, batch)));
    double bareSingle = best(rounds, texts.size(), () -> tokenized.forEach(text -> run(bare, environment, List.of(text))));
    double engineBatched = best(rounds, texts.size(), () -> embedder.embed(inputs, 768));
    double engineSingle = best(rounds, texts.size(), () -> inputs.forEach(input -> embedder.embed(input, 768)));
    System.out.printf(
        "%-12s %3d texts, %6.1f tokens on average | batched: bare %6.2f texts/s, engine %6.2f, ratio %.2fx | one per run: bare %6.2f, engine %6.2f, ratio %.2fx%n",
        name, texts.size(), meanTokens, bareBatched, engineBatched, engineBatched / bareBatched, bareSingle, engineSingle, engineSingle / bareSingle);
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

  /** Texts per second, best of {@code rounds} after one warm-up run. */
  private static double best(int rounds, int texts, Runnable work) {
    work.run();
    double best = 0;
    for (int i = 0; i < rounds; i++) {
      long start = System.nanoTime();
      work.run();
      best = Math.max(best, texts / ((System.nanoTime() - start) / 1e9));
    }
    return best;
  }
}
