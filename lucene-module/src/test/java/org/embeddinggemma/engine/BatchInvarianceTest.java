package org.embeddinggemma.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.embeddinggemma.testing.FullScaleGemma2;
import org.embeddinggemma.testing.TestModels;
import org.junit.jupiter.api.Test;

class BatchInvarianceTest {

  @Test
  void anFp32GraphIsBatchInvariant() {
    try (OnnxEmbeddingModel model = OnnxEmbeddingModel.load(TestModels.miniLmFloatGraph(), PoolingStrategy.MEAN, 1)) {
      assertEquals(new BatchInvariance(384, true), BatchInvariance.probe(model::embed));
    }
  }

  /** ONNX Runtime's dynamic quantisation picks one activation scale for the whole batch. */
  @Test
  void aDynamicallyQuantisedGraphIsNot() {
    try (OnnxEmbeddingModel model = OnnxEmbeddingModel.load(TestModels.miniLmGraph(), PoolingStrategy.MEAN, 1)) {
      assertEquals(new BatchInvariance(384, false), BatchInvariance.probe(model::embed));
      assertEquals(false, model.batchInvariant());
    }
  }

  /**
   * MatMulNBits quantises activations per block of a row, so batches do not change them; but fp32
   * attention scores over 256 dims round differently once padding passes 64 keys (ONNX Runtime's
   * GEMM changes its inner stride there), and re-quantising each layer's input magnifies that past
   * float rounding. The probe pads past 64 keys to see it; the W8A8 graph sums those scores in
   * 128-dim chunks and passes (FullScaleW8A8Test).
   */
  @Test
  void aGraphThatRequantisesActivationsIsNotOncePaddingPasses64Keys() {
    try (OnnxEmbeddingModel model =
        OnnxEmbeddingModel.load(TestModels.gemma2FullScale(FullScaleGemma2.Variant.Q8).resolve("onnx/model_quantized.onnx"), null, 2)) {
      assertEquals(new BatchInvariance(768, false), BatchInvariance.probe(model::embed));
    }
  }
}
