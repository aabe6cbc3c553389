package org.embeddinggemma.elasticsearch;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAccumulator;
import java.util.concurrent.atomic.LongAdder;

/** Counters of what this node embedded, for {@code GET _embedding_gemma/_stats}. */
public final class EmbeddingStats {

  /** Who asked for an embedding. */
  public enum Source {
    /** The ingest processor. */
    DOCUMENT,
    /** The query vector builder. */
    QUERY,
    /** {@code POST _embedding_gemma/_embed}. */
    REST
  }

  private final LongAdder documents = new LongAdder();
  private final LongAdder queries = new LongAdder();
  private final LongAdder restTexts = new LongAdder();
  private final LongAdder failures = new LongAdder();
  private final LongAdder rejections = new LongAdder();
  private final LongAdder truncations = new LongAdder();
  private final LongAdder inferences = new LongAdder();
  private final LongAdder inferenceNanos = new LongAdder();
  private final LongAccumulator maxInferenceNanos = new LongAccumulator(Math::max, 0);

  /** Counts {@code count} texts embedded for {@code source}. */
  public void embedded(Source source, int count) {
    switch (source) {
      case DOCUMENT -> documents.add(count);
      case QUERY -> queries.add(count);
      case REST -> restTexts.add(count);
    }
  }

  /** Counts one model run, which may embed several texts. */
  public void inference(long nanos) {
    inferences.increment();
    inferenceNanos.add(nanos);
    maxInferenceNanos.accumulate(nanos);
  }

  /** Counts {@code count} texts that failed. */
  public void failed(int count) {
    failures.add(count);
  }

  /** Counts texts refused because too many were waiting. */
  public void rejected(int count) {
    rejections.add(count);
  }

  /** Counts texts cut to the model's maximum number of tokens. */
  public void truncated(int count) {
    truncations.add(count);
  }

  /** The counters, as rendered by the stats endpoint. */
  public Map<String, Object> toMap() {
    long runs = inferences.sum();
    long nanos = inferenceNanos.sum();
    Map<String, Object> map = new LinkedHashMap<>();
    map.put("documents_embedded", documents.sum());
    map.put("queries_embedded", queries.sum());
    map.put("texts_embedded_by_rest", restTexts.sum());
    map.put("failures", failures.sum());
    map.put("rejections", rejections.sum());
    map.put("truncations", truncations.sum());
    Map<String, Object> inference = new LinkedHashMap<>();
    inference.put("count", runs);
    inference.put("total_time_in_millis", nanos / 1_000_000);
    inference.put("avg_time_in_millis", runs == 0 ? 0.0 : nanos / 1e6 / runs);
    inference.put("max_time_in_millis", maxInferenceNanos.get() / 1e6);
    map.put("inference", inference);
    return map;
  }
}
