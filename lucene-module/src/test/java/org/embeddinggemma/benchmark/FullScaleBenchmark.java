package org.embeddinggemma.benchmark;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.lucene.util.VectorUtil;
import org.embeddinggemma.engine.BatchPlanner;
import org.embeddinggemma.engine.EmbedderSettings;
import org.embeddinggemma.engine.Embedding;
import org.embeddinggemma.engine.EmbeddingInput;
import org.embeddinggemma.engine.NativeRuntime;
import org.embeddinggemma.engine.Task;
import org.embeddinggemma.engine.TextEmbedder;
import org.embeddinggemma.engine.TokenizedText;
import org.embeddinggemma.testing.Corpus;
import org.embeddinggemma.testing.FullScaleGemma;
import org.embeddinggemma.testing.FullScaleGemma2;
import org.embeddinggemma.testing.TestModels;

/**
 * The engine against bare ONNX Runtime on the full-scale EmbeddingGemma and EmbeddingGemma 2 graphs
 * ({@link FullScaleGemma}, {@link FullScaleGemma2}), in one JVM, on the same token ids: batched as
 * the engine batches them, and one text per run; at three lengths. Also each model's load time
 * against a bare session's, the quantised variants against fp32 (speed and cosine), and v2's peak
 * memory at 2,048 and 8,192 tokens and for a bulk of long passages with and without the token
 * budget. Run with {@code bin/benchmark full-scale}; prints the ratios.
 */
public final class FullScaleBenchmark {

  private FullScaleBenchmark() {}

  public static void main(String[] args) throws Exception {
    int threads = args.length > 0 ? Integer.parseInt(args[0]) : 2;
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 2;
    EmbedderSettings settings = new EmbedderSettings(threads, 16);
    List<String> sentences = Corpus.sentences().stream().map(Corpus.Sentence::text).toList();
    if (args.length > 2 && args[2].equals("w8a8")) {
      w8a8(sentences, rounds);
      return;
    }
    if (args.length > 2 && args[2].equals("memory")) {
      try (TextEmbedder v2 = TextEmbedder.open(TestModels.gemma2FullScale(FullScaleGemma2.Variant.OFFICIAL), settings)) {
        memory(v2, sentences);
      }
      return;
    }
    try (TextEmbedder v1 = engineAgainstBare("EmbeddingGemma", TestModels.gemmaFullScale(), settings, rounds)) {
      quantisedVariants(v1, sentences.subList(0, 64), passages(v1, sentences, 128, 24), settings, rounds);
    }
    try (TextEmbedder v2 = engineAgainstBare("EmbeddingGemma 2", TestModels.gemma2FullScale(FullScaleGemma2.Variant.OFFICIAL), settings, rounds)) {
      variantAgainstFp32(v2, sentences.subList(0, 64), passages(v2, sentences, 128, 24), settings, rounds, "Q8", TestModels.gemma2FullScale(FullScaleGemma2.Variant.Q8),
          FullScaleGemma2.Variant.Q8.fileName);
      memory(v2, sentences);
    }
  }

  /**
   * Load time against a bare session's, then the engine against bare ONNX Runtime at three lengths.
   *
   * @return the engine, open, for the caller's further figures
   */
  private static TextEmbedder engineAgainstBare(String name, Path model, EmbedderSettings settings, int rounds) throws Exception {
    Path graph = model.resolve("onnx/model.onnx");
    int threads = settings.intraOpThreads();
    System.out.printf("%s at full scale (%s), %d intra-op threads, best of %d rounds%n", name, graph, threads, rounds);
    OrtEnvironment environment = OrtEnvironment.getEnvironment();
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
      options.setIntraOpNumThreads(threads);
      try (OrtSession warm = environment.createSession(graph.toString(), options)) {
        // The first session pays for reading the weights from disk into the page cache.
      }
    }
    double bareLoad = 0;
    double engineLoad = 0;
    for (int round = 0; round < rounds; round++) {
      long start = System.nanoTime();
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
        "load: bare session %.2f s | engine (tokenizer, session, probes, fingerprint) %.2f s | ratio %.2fx%n", bareLoad, engineLoad,
        engineLoad / bareLoad);

    TextEmbedder embedder = TextEmbedder.open(model, settings);
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
      options.setIntraOpNumThreads(threads);
      List<String> sentences = Corpus.sentences().stream().map(Corpus.Sentence::text).toList();
      try (OrtSession bare = environment.createSession(graph.toString(), options)) {
        measure("sentences", sentences.subList(0, 64), embedder, bare, environment, rounds);
        measure("~128 tokens", passages(embedder, sentences, 128, 24), embedder, bare, environment, rounds);
        measure("~512 tokens", passages(embedder, sentences, 512, 8), embedder, bare, environment, rounds);
      }
      return embedder;
    } catch (Exception | Error e) {
      embedder.close();
      throw e;
    }
  }

  /**
   * Peak resident memory of one text of about 2,000 tokens, of a bulk of 16 such passages run as
   * the default token budget cuts them (8,192 padded tokens per run), of one text of 8,192 tokens,
   * and of the bulk in one run (a budget of 40,000), in that order from the same loaded model, with
   * freed memory given back first. ONNX Runtime's CPU arena keeps what a run took, so each peak
   * includes the largest before it.
   */
  private static void memory(TextEmbedder model, List<String> sentences) {
    List<String> long2000 = passages(model, sentences, 2000, 16);
    List<EmbeddingInput> bulk = long2000.stream().map(text -> document(model, text)).toList();
    List<TokenizedText> tokenized = bulk.stream().map(model::prepare).toList();
    NativeRuntime.releaseFreedNativeMemory();
    long loaded = residentBytes("VmRSS");
    System.out.printf("memory: model loaded, process resident %d MB%n", loaded >> 20);
    peak("one text of " + tokenized.get(0).length() + " tokens", loaded, () -> model.embedTokenized(List.of(tokenized.get(0)), 768));
    peak("16 texts of ~2,000 tokens, token budget 8,192 (" + model.planner().plan(tokenized).size() + " runs)", loaded, () -> model.embed(bulk, 768));
    String window = String.join(" ", long2000);
    peak("one text of 8,192 tokens", loaded, () -> model.embed(document(model, window), 768));
    BatchPlanner unbounded = new BatchPlanner(16, 40_000);
    peak("16 texts of ~2,000 tokens in " + unbounded.plan(tokenized).size() + " run (budget 40,000)", loaded, () -> {
      for (int[] run : unbounded.plan(tokenized)) {
        List<TokenizedText> batch = new ArrayList<>();
        for (int index : run) {
          batch.add(tokenized.get(index));
        }
        model.embedTokenized(batch, 768);
      }
    });
  }

  private static void peak(String what, long loaded, Runnable work) {
    NativeRuntime.releaseFreedNativeMemory();
    resetPeak();
    long start = System.nanoTime();
    work.run();
    long peak = residentBytes("VmHWM");
    System.out.printf("memory: %-62s peak resident %5d MB (+%4d MB over the loaded model), %.1f s%n", what, peak >> 20, (peak - loaded) >> 20,
        (System.nanoTime() - start) / 1e9);
  }

  /** Linux resets the process's peak resident size when 5 is written to clear_refs. */
  private static void resetPeak() {
    try {
      Files.writeString(Path.of("/proc/self/clear_refs"), "5");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot reset the peak resident size", e);
    }
  }

  private static long residentBytes(String field) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith(field + ":")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    throw new IllegalStateException("no " + field + " in /proc/self/status");
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
    // The engine's batches, as its planner cuts them.
    List<List<TokenizedText>> batches = new ArrayList<>();
    for (int[] run : embedder.planner().plan(tokenized)) {
      List<TokenizedText> batch = new ArrayList<>();
      for (int index : run) {
        batch.add(tokenized.get(index));
      }
      batches.add(batch);
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

  /** EmbeddingGemma's 8- and 4-bit MatMulNBits variants against fp32. */
  private static void quantisedVariants(TextEmbedder fp32, List<String> sentences, List<String> passages, EmbedderSettings settings, int rounds) {
    for (FullScaleGemma.Weights weights : List.of(FullScaleGemma.Weights.Q8, FullScaleGemma.Weights.Q4)) {
      variantAgainstFp32(fp32, sentences, passages, settings, rounds, weights.name(), TestModels.gemmaFullScale(weights), weights.fileName);
    }
  }

  /**
   * A weight-quantised variant against fp32 through the engine: texts per second, whether the
   * engine's probe finds it batch invariant (else it runs one text at a time), and the cosine of its
   * vectors to fp32's.
   */
  private static void variantAgainstFp32(
      TextEmbedder fp32, List<String> sentences, List<String> passages, EmbedderSettings settings, int rounds, String name, Path directory,
      String fileName) {
    List<EmbeddingInput> inputs = new ArrayList<>();
    sentences.forEach(text -> inputs.add(document(fp32, text)));
    passages.forEach(text -> inputs.add(document(fp32, text)));
    List<Embedding> reference = fp32.embed(inputs, 768);
    double fp32Rate = rate(fp32, inputs, rounds);
    long size = directory.resolve("onnx/" + fileName + "_data").toFile().length();
    try (TextEmbedder variant = TextEmbedder.open(directory, settings)) {
      double[] cosine = meanAndLeastCosine(reference, variant.embed(inputs, 768));
      double variantRate = rate(variant, inputs, rounds);
      System.out.printf(
          "%-4s %s (%d MB of weights): %6.2f texts/s against fp32's %6.2f, ratio %.2fx | batch invariant: %s | cosine to fp32: mean %.4f, least %.4f%n",
          name, fileName, size >> 20, variantRate, fp32Rate, variantRate / fp32Rate, variant.maxBatchSize() > 1, cosine[0], cosine[1]);
    }
  }

  /**
   * The W8A8 graph that {@code bin/quantize} makes against the fp32 graph it is made from: the
   * conversion's time; each graph's load time and resident memory; texts per second at three
   * lengths, batched as the engine batches and one text per run, on 1 and 2 threads; and the cosine
   * of its vectors to fp32's at 768, 256 and 128 dims.
   */
  private static void w8a8(List<String> sentences, int rounds) {
    Path fp32Model = TestModels.gemmaFullScale();
    long start = System.nanoTime();
    Path int8Model = TestModels.gemmaFullScaleW8A8();
    System.out.printf("W8A8 of EmbeddingGemma at full scale: %s (made or found in %.1f s; bin/quantize prints its own time)%n",
        int8Model.resolve("onnx/model_w8a8.onnx"), (System.nanoTime() - start) / 1e9);
    System.out.printf("CPU flags: %s%n", org.embeddinggemma.engine.CpuFeatures.detect().describe());
    try (TextEmbedder fp32 = TextEmbedder.open(TestModels.miniLmFloat(), new EmbedderSettings(2, 16));
        TextEmbedder int8 = TextEmbedder.open(TestModels.miniLmW8A8(), new EmbedderSettings(2, 16))) {
      topTenOverlap("MiniLM (trained weights)", fp32, int8, sentences);
    }
    for (int threads : new int[] {2, 1}) {
      EmbedderSettings settings = new EmbedderSettings(threads, 16);
      long before = residentBytes("VmRSS");
      long loadStart = System.nanoTime();
      try (TextEmbedder fp32 = TextEmbedder.open(fp32Model, settings)) {
        double fp32Load = (System.nanoTime() - loadStart) / 1e9;
        long fp32Memory = residentBytes("VmRSS") - before;
        loadStart = System.nanoTime();
        try (TextEmbedder int8 = TextEmbedder.open(int8Model, settings)) {
          double int8Load = (System.nanoTime() - loadStart) / 1e9;
          long int8Memory = residentBytes("VmRSS") - before - fp32Memory;
          if (threads == 2) {
            System.out.printf("load: fp32 %.2f s, +%d MB resident | w8a8 %.2f s, +%d MB resident | batch invariant: %s%n",
                fp32Load, fp32Memory >> 20, int8Load, int8Memory >> 20, int8.maxBatchSize() > 1);
            cosines(fp32, int8, sentences);
          }
          List<List<String>> lengths = List.of(sentences.subList(0, 64), passages(fp32, sentences, 128, 24), passages(fp32, sentences, 512, 8));
          for (List<String> texts : lengths) {
            List<EmbeddingInput> inputs = texts.stream().map(text -> document(fp32, text)).toList();
            double meanTokens = inputs.stream().mapToInt(input -> fp32.tokenize(input).length()).average().orElseThrow();
            double[] batched = interleaved(rounds, inputs, () -> fp32.embed(inputs, 768), () -> int8.embed(inputs, 768));
            double[] alone = interleaved(rounds, inputs,
                () -> inputs.forEach(input -> fp32.embed(input, 768)), () -> inputs.forEach(input -> int8.embed(input, 768)));
            System.out.printf(
                "%d thread%s, %3d texts of %6.1f tokens on average | batched: fp32 %6.2f texts/s, w8a8 %6.2f, ratio %.2fx | one per run: fp32 %6.2f, w8a8 %6.2f, ratio %.2fx%n",
                threads, threads == 1 ? " " : "s", texts.size(), meanTokens, batched[0], batched[1], batched[1] / batched[0], alone[0], alone[1], alone[1] / alone[0]);
          }
        }
      }
    }
  }

  /** Best texts per second of each side, run in turn so that a slow moment favours neither. */
  private static double[] interleaved(int rounds, List<EmbeddingInput> inputs, Runnable first, Runnable second) {
    double[] best = new double[2];
    Runnable[] work = {first, second};
    for (int round = 0; round <= rounds; round++) {
      for (int w = 0; w < 2; w++) {
        long start = System.nanoTime();
        work[w].run();
        if (round > 0) {
          best[w] = Math.max(best[w], inputs.size() / ((System.nanoTime() - start) / 1e9));
        }
      }
    }
    return best;
  }

  /**
   * How many of fp32's ten nearest sentences the W8A8 graph also ranks in its ten, for each of the
   * corpus's queries, against all 240 sentences.
   */
  private static void topTenOverlap(String name, TextEmbedder fp32, TextEmbedder int8, List<String> sentences) {
    List<String> queries = Corpus.queries().stream().map(Corpus.Query::query).toList();
    List<Set<Integer>> reference = topTen(fp32, queries, sentences);
    List<Set<Integer>> quantised = topTen(int8, queries, sentences);
    double sum = 0;
    int least = 10;
    for (int q = 0; q < queries.size(); q++) {
      Set<Integer> common = new java.util.HashSet<>(reference.get(q));
      common.retainAll(quantised.get(q));
      sum += common.size();
      least = Math.min(least, common.size());
    }
    System.out.printf("%s: top-10 overlap with fp32 over %d queries and %d sentences: mean %.2f of 10, least %d%n",
        name, queries.size(), sentences.size(), sum / queries.size(), least);
  }

  private static List<Set<Integer>> topTen(TextEmbedder embedder, List<String> queries, List<String> sentences) {
    List<Embedding> documents = embedder.embed(sentences.stream().map(text -> document(embedder, text)).toList(), embedder.modelDims());
    List<Embedding> asked = embedder.embed(queries.stream().map(text -> new EmbeddingInput(text, embedder.prompt(Task.QUERY), null)).toList(), embedder.modelDims());
    List<Set<Integer>> tops = new ArrayList<>();
    for (Embedding query : asked) {
      Integer[] order = new Integer[documents.size()];
      for (int i = 0; i < order.length; i++) {
        order[i] = i;
      }
      java.util.Arrays.sort(order, (a, b) -> Float.compare(
          VectorUtil.dotProduct(query.vector(), documents.get(b).vector()), VectorUtil.dotProduct(query.vector(), documents.get(a).vector())));
      tops.add(Set.of(java.util.Arrays.copyOf(order, 10)));
    }
    return tops;
  }

  /** Cosine of the W8A8 graph's vectors to fp32's over the corpus, at three Matryoshka dims. */
  private static void cosines(TextEmbedder fp32, TextEmbedder int8, List<String> sentences) {
    List<EmbeddingInput> inputs = sentences.stream().map(text -> document(fp32, text)).toList();
    for (int dims : new int[] {768, 256, 128}) {
      double[] cosine = meanAndLeastCosine(fp32.embed(inputs, dims), int8.embed(inputs, dims));
      System.out.printf("cosine to fp32 at %3d dims over %d sentences: mean %.5f, least %.5f%n", dims, inputs.size(), cosine[0], cosine[1]);
    }
  }

  /** The mean and the least cosine between two lists of unit vectors, pair by pair. */
  private static double[] meanAndLeastCosine(List<Embedding> reference, List<Embedding> other) {
    double sum = 0;
    double least = 1;
    for (int i = 0; i < reference.size(); i++) {
      double cosine = VectorUtil.dotProduct(reference.get(i).vector(), other.get(i).vector());
      sum += cosine;
      least = Math.min(least, cosine);
    }
    return new double[] {sum / reference.size(), least};
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
    Map<String, OnnxTensor> inputs = new HashMap<>();
    try {
      inputs.put("input_ids", OnnxTensor.createTensor(environment, ids, shape));
      inputs.put("attention_mask", OnnxTensor.createTensor(environment, mask, shape));
      // EmbeddingGemma 2's official export: no media rows for text.
      for (String name : session.getInputNames()) {
        if (name.endsWith("_features")) {
          inputs.put(name, OnnxTensor.createTensor(environment, FloatBuffer.allocate(0), new long[] {0, 512}));
        }
      }
    } catch (OrtException e) {
      inputs.values().forEach(OnnxTensor::close);
      throw new IllegalStateException(e);
    }
    try (OrtSession.Result result = session.run(inputs, Set.of("sentence_embedding"))) {
      FloatBuffer values = ((OnnxTensor) result.get(0)).getFloatBuffer();
      float[][] vectors = new float[batch.size()][768];
      for (float[] vector : vectors) {
        values.get(vector);
      }
      return vectors;
    } catch (OrtException e) {
      throw new IllegalStateException(e);
    } finally {
      inputs.values().forEach(OnnxTensor::close);
    }
  }

  private static double min(double current, double value) {
    return current == 0 ? value : Math.min(current, value);
  }
}
