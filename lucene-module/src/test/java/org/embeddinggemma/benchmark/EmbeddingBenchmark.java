package org.embeddinggemma.benchmark;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.embeddinggemma.engine.EmbedderSettings;
import org.embeddinggemma.engine.EmbeddingInput;
import org.embeddinggemma.engine.PromptTemplate;
import org.embeddinggemma.engine.TextEmbedder;
import org.embeddinggemma.testing.Corpus;
import org.embeddinggemma.testing.TestModels;

/**
 * Texts per second of {@link TextEmbedder} against a baseline on the same texts in the same run:
 * raw ONNX Runtime and the DJL tokenizer, one text per inference, mean pooling in a plain loop (how
 * an embedding is usually computed in Java). Run with {@code bin/benchmark}; prints the ratios.
 */
public final class EmbeddingBenchmark {

  private EmbeddingBenchmark() {}

  public static void main(String[] args) throws Exception {
    int threads = args.length > 0 ? Integer.parseInt(args[0]) : 2;
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
    List<String> texts = Corpus.sentences().stream().map(Corpus.Sentence::text).toList();
    System.out.printf("texts: %d sentences from data/corpus.jsonl; %d intra-op threads; best of %d rounds%n", texts.size(), threads, rounds);
    for (Path model : List.of(TestModels.miniLmFloat(), TestModels.miniLm())) {
      double baseline = best(rounds, () -> rawOnnxRuntime(model, texts, threads));
      double engine;
      int batch;
      try (TextEmbedder embedder = TextEmbedder.open(model, new EmbedderSettings(threads, 16))) {
        List<EmbeddingInput> inputs = texts.stream().map(text -> EmbeddingInput.of(text, PromptTemplate.NONE)).toList();
        batch = embedder.maxBatchSize();
        engine = best(rounds, () -> {
          long start = System.nanoTime();
          embedder.embed(inputs, embedder.modelDims());
          return texts.size() / ((System.nanoTime() - start) / 1e9);
        });
      }
      System.out.printf(
          "%-12s raw ONNX Runtime, 1 text/run: %7.1f texts/s | engine (batch %2d, length-sorted): %7.1f texts/s | ratio %.2fx%n",
          model.getFileName(), baseline, batch, engine, engine / baseline);
    }
  }

  interface Measurement {
    double run() throws Exception;
  }

  private static double best(int rounds, Measurement measurement) throws Exception {
    measurement.run();
    double best = 0;
    for (int i = 0; i < rounds; i++) {
      best = Math.max(best, measurement.run());
    }
    return best;
  }

  /** The baseline: texts per second of a plain tokenize-run-pool loop. */
  private static double rawOnnxRuntime(Path model, List<String> texts, int threads) throws Exception {
    OrtEnvironment environment = OrtEnvironment.getEnvironment();
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        HuggingFaceTokenizer tokenizer =
            HuggingFaceTokenizer.newInstance(model.resolve("tokenizer.json"), Map.of("padding", "false", "maxLength", "256", "modelMaxLength", "256"))) {
      options.setIntraOpNumThreads(threads);
      try (OrtSession session = environment.createSession(model.resolve("model.onnx").toString(), options)) {
        long start = System.nanoTime();
        for (String text : texts) {
          long[] ids = tokenizer.encode(text).getIds();
          long[] mask = new long[ids.length];
          java.util.Arrays.fill(mask, 1);
          long[] shape = {1, ids.length};
          Map<String, OnnxTensor> inputs = new HashMap<>();
          inputs.put("input_ids", OnnxTensor.createTensor(environment, LongBuffer.wrap(ids), shape));
          inputs.put("attention_mask", OnnxTensor.createTensor(environment, LongBuffer.wrap(mask), shape));
          inputs.put("token_type_ids", OnnxTensor.createTensor(environment, LongBuffer.wrap(new long[ids.length]), shape));
          try (OrtSession.Result result = session.run(inputs)) {
            float[][][] hidden = (float[][][]) result.get(0).getValue();
            float[] pooled = new float[hidden[0][0].length];
            for (float[] token : hidden[0]) {
              for (int h = 0; h < pooled.length; h++) {
                pooled[h] += token[h] / ids.length;
              }
            }
          } finally {
            inputs.values().forEach(OnnxTensor::close);
          }
        }
        return texts.size() / ((System.nanoTime() - start) / 1e9);
      }
    }
  }
}
