package org.embeddinggemma.quantization;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.embeddinggemma.onnx.OnnxModel;
import org.embeddinggemma.onnx.OnnxRewrite;

/**
 * Writes the W8A8 form of a graph: chosen linear layers become int8 matrix products that ONNX
 * Runtime runs on integer GEMM kernels (AMX where the CPU has it), and activation-by-activation
 * products with a long fixed inner dimension are summed in chunks.
 *
 * <p>A quantised layer {@code Y = X W} becomes {@code Y = MatMulIntegerToFloat(Xq, Wq, r, s, 128)}
 * (ONNX Runtime takes {@code r} per row): {@code W} as 7-bit int8 per output column ({@link
 * ColumnInt8Weights}, scales {@code s}); {@code X} as uint8 per row, {@code r = max|x| / 127}, {@code Xq = round(X / r) + 128}. Each row (token)
 * has its own scale, so a text's result does not depend on what else is in its batch. Layers that
 * share an input share its quantised form (query, key and value; gate and up). uint8 activations
 * times int8 weights is the one integer form that ONNX Runtime sends to AMX.
 *
 * <p>Chunked products: ONNX Runtime's fp32 GEMM picks its inner-dimension stride from the output's
 * width, so {@code Q Kᵀ} over 256 dims rounds differently once padding takes the key count past 64;
 * int8 re-quantisation downstream magnifies that into a batch-dependent vector. Summing products of
 * 128-dim chunks keeps every stride fixed.
 */
public final class W8A8Graph {

  /** The largest level of a quantised activation: uint8 around zero point 128. */
  public static final int ACTIVATION_LEVELS = 127;

  /** The floor of a row's largest magnitude, so that an all-zero row does not divide by zero. */
  public static final float TINY = 1e-30f;

  /** The inner dimension of each chunk of a chunked product. */
  public static final int CHUNK = 128;

  private static final String PREFIX = "w8a8/";

  private final OnnxModel source;
  private final OnnxRewrite rewrite;
  private final boolean axesAsInput;
  private final Set<String> quantisedInputs = new HashSet<>();

  private W8A8Graph(OnnxModel source) {
    this.source = source;
    this.rewrite = source.rewrite();
    // ReduceMax takes its axes as an input from opset 18 on, as an attribute before.
    this.axesAsInput = source.opset("") >= 18;
  }

  /**
   * How one linear layer is quantised.
   *
   * @param weights its int8 weights
   * @param passes 1: its input quantised once per row; 2: the rounding error of that quantised
   *     again and multiplied too, for inputs whose outliers make one pass too coarse (twice the
   *     integer work, error close to the weights' alone)
   */
  public record QuantisedLayer(ColumnInt8Weights weights, int passes) {
    /**
     * @throws IllegalArgumentException if passes is not 1 or 2
     */
    public QuantisedLayer {
      if (passes != 1 && passes != 2) {
        throw new IllegalArgumentException("passes must be 1 or 2, got " + passes);
      }
    }
  }

  /**
   * Writes the W8A8 graph of {@code source} to {@code output} and its weights beside it.
   *
   * @param quantised the layers to quantise, with how
   * @param chunked the names of MatMul nodes of two activations to sum in chunks, with their inner dimension
   * @param metadata entries for the graph's {@code metadata_props}
   */
  public static void write(
      OnnxModel source, Map<LinearLayer, QuantisedLayer> quantised, Map<String, Integer> chunked,
      Map<String, String> metadata, Path output) {
    W8A8Graph graph = new W8A8Graph(source);
    graph.constants();
    graph.rewriteNodes(quantised, chunked);
    metadata.forEach(graph.rewrite::metadata);
    graph.rewrite.opset("com.microsoft", 1).write(output);
  }

  private void constants() {
    long[] scalar = {};
    rewrite.floats(PREFIX + "tiny", scalar, TINY)
        .floats(PREFIX + "levels", scalar, ACTIVATION_LEVELS)
        // Cast truncates: adding the zero point and a half rounds half up with one operator less.
        .floats(PREFIX + "offset", scalar, 128.5f)
        .floats(PREFIX + "zero_level", scalar, 128f)
        .initializer(PREFIX + "zero_point", OnnxModel.UINT8, scalar, new byte[] {(byte) 128})
        .longs(PREFIX + "last_axis", new long[] {1}, -1L)
        .longs(PREFIX + "second_last_axis", new long[] {1}, -2L);
  }

  private void rewriteNodes(Map<LinearLayer, QuantisedLayer> quantised, Map<String, Integer> chunked) {
    Map<String, LinearLayer> byNode = new java.util.HashMap<>();
    quantised.keySet().forEach(layer -> byNode.put(layer.node(), layer));
    Set<String> chunkStarts = new HashSet<>();
    List<OnnxModel.Node> nodes = rewrite.nodes();
    List<OnnxModel.Node> rewritten = new ArrayList<>(nodes.size() * 2);
    for (OnnxModel.Node node : nodes) {
      LinearLayer layer = byNode.get(node.name());
      Integer inner = chunked.get(node.name());
      if (layer != null) {
        quantisedLinear(layer, quantised.get(layer), rewritten);
      } else if (inner != null) {
        chunkedProduct(node, inner, chunkStarts, rewritten);
      } else {
        rewritten.add(node);
      }
    }
    nodes.clear();
    nodes.addAll(rewritten);
    Set<String> stillUsed = new HashSet<>();
    nodes.forEach(node -> stillUsed.addAll(node.inputs()));
    for (LinearLayer layer : quantised.keySet()) {
      if (!stillUsed.contains(layer.weight())) {
        rewrite.dropInitializer(layer.weight());
      }
    }
  }

  private void quantisedLinear(LinearLayer layer, QuantisedLayer plan, List<OnnxModel.Node> out) {
    String x = layer.input();
    RowQuantised first = rowQuantised(x, PREFIX + x, out);
    String weight = layer.weight() + "/" + PREFIX + "int8";
    String weightScale = layer.weight() + "/" + PREFIX + "column_scale";
    ColumnInt8Weights weights = plan.weights();
    rewrite.initializer(weight, OnnxModel.INT8, new long[] {layer.in(), layer.out()}, weights.values());
    rewrite.floats(weightScale, new long[] {layer.out()}, weights.scales());
    String base = PREFIX + layer.output();
    if (plan.passes() == 1) {
      product(first, weight, weightScale, layer.output(), layer.node(), out);
      return;
    }
    // The residual x - round(x / r) r has at most half a step per value: quantised again with its
    // own row scale, it carries what the first pass rounded away.
    String residualName = PREFIX + x + "/residual";
    if (quantisedInputs.add(residualName)) {
      String levels = PREFIX + x + "/levels";
      out.add(OnnxModel.Node.of(levels, "", "Cast", List.of(first.uint8()), List.of(levels), "to", (long) OnnxModel.FLOAT));
      out.add(node("Sub", List.of(levels, PREFIX + "zero_level"), PREFIX + x + "/centred"));
      out.add(node("Mul", List.of(PREFIX + x + "/centred", first.scale()), PREFIX + x + "/dequantised"));
      out.add(node("Sub", List.of(x, PREFIX + x + "/dequantised"), residualName));
    }
    RowQuantised second = rowQuantised(residualName, residualName, out);
    product(first, weight, weightScale, base + "/first_pass", base + "/first_pass", out);
    product(second, weight, weightScale, base + "/second_pass", base + "/second_pass", out);
    out.add(OnnxModel.Node.of(layer.node(), "", "Add", List.of(base + "/first_pass", base + "/second_pass"), List.of(layer.output())));
  }

  /** A tensor quantised per row: its uint8 form and its row scale. */
  private record RowQuantised(String uint8, String scale) {}

  /** Quantises {@code x} per row, once per tensor; names start with {@code prefix}. */
  private RowQuantised rowQuantised(String x, String prefix, List<OnnxModel.Node> out) {
    RowQuantised names = new RowQuantised(prefix + "/uint8", prefix + "/row_scale");
    if (quantisedInputs.add(prefix + "/uint8")) {
      String abs = prefix + "/abs";
      String max = prefix + "/row_max";
      String safe = prefix + "/row_max_safe";
      String inverse = prefix + "/row_inverse_scale";
      String scaled = prefix + "/scaled";
      String shifted = prefix + "/shifted";
      out.add(node("Abs", List.of(x), abs));
      out.add(axesAsInput
          ? OnnxModel.Node.of(max, "", "ReduceMax", List.of(abs, PREFIX + "last_axis"), List.of(max), "keepdims", 1L)
          : OnnxModel.Node.of(max, "", "ReduceMax", List.of(abs), List.of(max), "axes", new long[] {-1}, "keepdims", 1L));
      out.add(node("Max", List.of(max, PREFIX + "tiny"), safe));
      out.add(node("Div", List.of(PREFIX + "levels", safe), inverse));
      out.add(node("Div", List.of(safe, PREFIX + "levels"), names.scale()));
      out.add(node("Mul", List.of(x, inverse), scaled));
      out.add(node("Add", List.of(scaled, PREFIX + "offset"), shifted));
      out.add(OnnxModel.Node.of(names.uint8(), "", "Cast", List.of(shifted), List.of(names.uint8()), "to", (long) OnnxModel.UINT8));
    }
    return names;
  }

  /** {@code MatMulIntegerToFloat(input, weight)}, scaled by the input's row scales and the weight's column scales. */
  private static void product(RowQuantised input, String weight, String weightScale, String output, String name, List<OnnxModel.Node> out) {
    out.add(OnnxModel.Node.of(name, "com.microsoft", "MatMulIntegerToFloat",
        List.of(input.uint8(), weight, input.scale(), weightScale, PREFIX + "zero_point"), List.of(output)));
  }

  private void chunkedProduct(OnnxModel.Node node, int inner, Set<String> chunkStarts, List<OnnxModel.Node> out) {
    String a = node.inputs().get(0);
    String b = node.inputs().get(1);
    String output = node.outputs().get(0);
    String sum = null;
    for (int start = 0; start < inner; start += CHUNK) {
      int end = Math.min(inner, start + CHUNK);
      String starts = PREFIX + "chunk_" + start;
      String ends = PREFIX + "chunk_" + end;
      for (int bound : new int[] {start, end}) {
        if (chunkStarts.add(PREFIX + "chunk_" + bound)) {
          rewrite.longs(PREFIX + "chunk_" + bound, new long[] {1}, bound);
        }
      }
      String left = PREFIX + output + "/a_" + start;
      String right = PREFIX + output + "/b_" + start;
      String part = PREFIX + output + "/part_" + start;
      out.add(node("Slice", List.of(a, starts, ends, PREFIX + "last_axis"), left));
      out.add(node("Slice", List.of(b, starts, ends, PREFIX + "second_last_axis"), right));
      boolean last = end == inner;
      String partOut = last && sum == null ? output : part;
      out.add(node("MatMul", List.of(left, right), partOut));
      if (sum != null) {
        String total = last ? output : PREFIX + output + "/sum_" + start;
        out.add(node("Add", List.of(sum, part), total));
        sum = total;
      } else {
        sum = partOut;
      }
    }
  }

  private static OnnxModel.Node node(String op, List<String> inputs, String output) {
    return OnnxModel.Node.of(output, "", op, inputs, List.of(output));
  }
}
