package org.embeddinggemma.cli;

import org.embeddinggemma.engine.CpuFeatures;
import org.embeddinggemma.engine.TextEmbedder;

/** One line that says which graph a tool loaded, how it is quantised, and which int8 kernels this CPU gives it. */
final class GraphDescription {

  private GraphDescription() {}

  static String of(TextEmbedder embedder) {
    String quantization = embedder.graphQuantization();
    return "graph " + embedder.directory().root().relativize(embedder.directory().graph())
        + " (" + (quantization == null ? "as exported" : quantization) + "), "
        + (embedder.maxBatchSize() > 1 ? "batched up to " + embedder.maxBatchSize() + " texts" : "one text per run (not batch invariant)")
        + "; CPU " + CpuFeatures.detect().describe();
  }
}
