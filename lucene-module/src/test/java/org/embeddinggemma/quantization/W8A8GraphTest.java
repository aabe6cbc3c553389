package org.embeddinggemma.quantization;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.embeddinggemma.onnx.OnnxGraphWriter;
import org.embeddinggemma.onnx.OnnxModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The rewrite itself, on one linear layer and one attention-like product run by ONNX Runtime. */
class W8A8GraphTest {

  private static final int ROWS = 6;
  private static final int IN = 96;
  private static final int OUT = 40;

  @TempDir Path dir;

  @Test
  void quantisedLayerComputesWhatItsErrorMeasurePredicts() throws OrtException {
    double onePass = graphError(1);
    double twoPasses = graphError(2);
    assertTrue(onePass < 0.05, "relative error in one pass " + onePass);
    assertTrue(twoPasses < onePass * 0.8, "a second pass must leave less error: " + twoPasses + " against " + onePass);
  }

  /** The quantised graph's relative error against fp32, checked to be what {@link LayerError} predicts. */
  private double graphError(int passes) throws OrtException {
    float[] weight = random(IN * OUT, 1, 0.2f);
    float[] x = random(ROWS * IN, 2, 1f);
    x[7] = 9f; // an outlier in row 0: that row's scale is coarser, the others' are not
    Path source = dir.resolve("linear.onnx");
    new OnnxGraphWriter()
        .input("x", OnnxGraphWriter.FLOAT, "batch", "rows", (long) IN)
        .output("y", OnnxGraphWriter.FLOAT, "batch", "rows", (long) OUT)
        .floats("w", weight, IN, OUT)
        .node("MatMul", List.of("x", "w"), List.of("y"))
        .write(source, Long.MAX_VALUE);
    OnnxModel model = OnnxModel.read(source);
    List<LinearLayer> layers = LinearLayer.find(model);
    assertEquals(List.of(new LinearLayer("MatMul_0", "x", "w", "y", IN, OUT)), layers);
    ColumnInt8Weights quantised = ColumnInt8Weights.of(weight, IN, OUT);
    Path output = dir.resolve("linear_w8a8.onnx");
    W8A8Graph.write(model, Map.of(layers.get(0), new W8A8Graph.QuantisedLayer(quantised, passes)), Map.of(), Map.of("k", "v"), output);

    // Two texts of three tokens: each row keeps its own scale through the batch dimension.
    float[] exact = run(source, Map.of("x", x), new long[] {2, ROWS / 2, IN}, "y");
    float[] approximate = run(output, Map.of("x", x), new long[] {2, ROWS / 2, IN}, "y");
    double error = 0;
    double norm = 0;
    for (int i = 0; i < exact.length; i++) {
      error += (approximate[i] - exact[i]) * (approximate[i] - exact[i]);
      norm += exact[i] * exact[i];
    }
    double measured = LayerError.relative(x, ROWS, weight, quantised, passes);
    assertEquals(measured, Math.sqrt(error / norm), 1e-4, "the graph's error is the error the quantiser measures");
    OnnxModel written = OnnxModel.read(output);
    assertEquals("v", written.metadata().get("k"));
    assertTrue(!written.initializers().containsKey("w"), "the fp32 weight is dropped");
    assertEquals(passes, written.nodes().stream().filter(node -> node.opType().equals("MatMulIntegerToFloat")).count());
    return measured;
  }

  @Test
  void chunkedProductEqualsTheWholeOne() throws OrtException {
    int inner = 256;
    Path source = dir.resolve("scores.onnx");
    new OnnxGraphWriter()
        .input("q", OnnxGraphWriter.FLOAT, 1L, 2L, "tokens", (long) inner)
        .input("kt", OnnxGraphWriter.FLOAT, 1L, 2L, (long) inner, "keys")
        .output("scores", OnnxGraphWriter.FLOAT, 1L, 2L, "tokens", "keys")
        .node("MatMul", List.of("q", "kt"), List.of("scores"))
        .write(source, Long.MAX_VALUE);
    OnnxModel model = OnnxModel.read(source);
    Path output = dir.resolve("scores_w8a8.onnx");
    W8A8Graph.write(model, Map.of(), Map.of("MatMul_0", inner), Map.of(), output);
    float[] q = random(2 * 3 * inner, 3, 1f);
    float[] kt = random(2 * inner * 70, 4, 1f);
    Map<String, float[]> inputs = Map.of("q", q, "kt", kt);
    float[] whole = runTwo(source, inputs, new long[] {1, 2, 3, inner}, new long[] {1, 2, inner, 70});
    float[] chunked = runTwo(output, inputs, new long[] {1, 2, 3, inner}, new long[] {1, 2, inner, 70});
    assertArrayEquals(whole, chunked, 1e-3f);
  }

  private static float[] random(int count, long seed, float scale) {
    SplittableRandom random = new SplittableRandom(seed);
    float[] values = new float[count];
    for (int i = 0; i < count; i++) {
      values[i] = (float) (random.nextDouble(-1, 1) * scale);
    }
    return values;
  }

  private static float[] run(Path graph, Map<String, float[]> inputs, long[] shape, String output) throws OrtException {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession session = env.createSession(graph.toString(), new OrtSession.SessionOptions());
        OnnxTensor x = OnnxTensor.createTensor(env, FloatBuffer.wrap(inputs.get("x")), shape);
        OrtSession.Result result = session.run(Map.of("x", x))) {
      FloatBuffer buffer = ((OnnxTensor) result.get(output).orElseThrow()).getFloatBuffer();
      float[] values = new float[buffer.remaining()];
      buffer.get(values);
      return values;
    }
  }

  private static float[] runTwo(Path graph, Map<String, float[]> inputs, long[] qShape, long[] ktShape) throws OrtException {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession session = env.createSession(graph.toString(), new OrtSession.SessionOptions());
        OnnxTensor q = OnnxTensor.createTensor(env, FloatBuffer.wrap(inputs.get("q")), qShape);
        OnnxTensor kt = OnnxTensor.createTensor(env, FloatBuffer.wrap(inputs.get("kt")), ktShape);
        OrtSession.Result result = session.run(Map.of("q", q, "kt", kt))) {
      FloatBuffer buffer = ((OnnxTensor) result.get("scores").orElseThrow()).getFloatBuffer();
      float[] values = new float[buffer.remaining()];
      buffer.get(values);
      assertTrue(Files.exists(graph));
      return values;
    }
  }
}
