package org.embeddinggemma.testing;

import java.util.List;
import org.embeddinggemma.onnx.OnnxGraphWriter;

/**
 * An ONNX graph with EmbeddingGemma 2's text architecture at its exact sizes, the interface of its
 * official export and deterministic weights (the real ones cannot be downloaded here).
 *
 * <p>Token embeddings (262,144 x 512) scaled by sqrt(512). Per-layer inputs from a projection only:
 * P = RMSNorm(reshape(E W[512 x 12,288] / sqrt(512), [batch, tokens, 24, 512])). 24 layers, each:
 * RMSNorm before and after attention and before and after a gated GELU-tanh MLP of 2,048; 4 query
 * heads; layers 5, 11, 17 and 23 attend to all tokens with 1 key/value head of 512 and rotary
 * embeddings of theta 1,000,000, the others to tokens at most 512 positions away with 2 key/value
 * heads of 256 and theta 10,000, the rotations by ONNX Runtime's {@code com.microsoft.RotaryEmbedding}
 * as in the real export; RMSNorm on queries and keys (their weights carry the attention scale,
 * which is 1) and on values without weight; bidirectional. Then the layer's per-layer block, x +=
 * RMSNorm(W2 (gelu(W1 x) * P[layer])), and its learned scalar. RMSNorm is the plain x / rms(x) * w.
 * A final norm, a 512 to 768 projection on every token ({@code last_hidden_state}), masked mean
 * pooling and L2 ({@code sentence_embedding}). About 271M parameters, 1.08 GB of fp32 weights.
 *
 * <p>Inputs as the official export's: {@code input_ids}, {@code attention_mask}, and {@code
 * image_features}, {@code video_features}, {@code audio_features} (float [n, 512]) whose rows
 * replace placeholder tokens; here each media row's sum is added to the token states, and an
 * image placeholder with no rows fails the run, as in the real graph. {@link Variant#TEXT_ONLY} has
 * just the two text inputs, as the re-exports of Vespa and others.
 */
public final class FullScaleGemma2 {

  /** Hidden size. */
  public static final int HIDDEN = 512;
  /** Output dims, after the projection. */
  public static final int DIMS = 768;
  /** Layers. */
  public static final int LAYERS = 24;
  /** Query heads. */
  public static final int HEADS = 4;
  /** Head size of sliding layers, which have {@link #SLIDING_KV_HEADS} key/value heads. */
  public static final int SLIDING_HEAD_DIM = 256;
  /** Key/value heads of sliding layers. */
  public static final int SLIDING_KV_HEADS = 2;
  /** Head size of full-attention layers, which have one key/value head. */
  public static final int FULL_HEAD_DIM = 512;
  /** Gated MLP width. */
  public static final int INTERMEDIATE = 2048;
  /** Longest input, and the rows of the rotary tables. */
  public static final int MAX_POSITIONS = 8192;
  /** Sliding layers see tokens at most this many positions away. */
  public static final int WINDOW_RADIUS = 512;

  /** Which inputs and weights. */
  public enum Variant {
    /** The official export's text graph, {@code onnx/model.onnx}: five inputs, fp32. */
    OFFICIAL(0, "model.onnx", true),
    /** A re-export with only {@code input_ids} and {@code attention_mask}, fp32. */
    TEXT_ONLY(0, "model_text_only.onnx", false),
    /** The five inputs, linear layers as 8-bit MatMulNBits (weight-only, blocks of 32), as {@code onnx/model_quantized.onnx}. */
    Q8(8, "model_quantized.onnx", true);

    final int bits;
    /** The graph's file name in the export's {@code onnx/} folder. */
    public final String fileName;
    final boolean mediaInputs;

    Variant(int bits, String fileName, boolean mediaInputs) {
      this.bits = bits;
      this.fileName = fileName;
      this.mediaInputs = mediaInputs;
    }
  }

  private final OnnxGraphWriter graph = new OnnxGraphWriter();
  private final GeneratedLayers layers;
  private final boolean mediaInputs;

  private FullScaleGemma2(Variant variant) {
    this.layers = new GeneratedLayers(graph, variant.bits);
    this.mediaInputs = variant.mediaInputs;
  }

  /** The graph of {@code variant}, ready to be written with its weights stored externally. */
  public static OnnxGraphWriter graph(Variant variant) {
    return new FullScaleGemma2(variant).build();
  }

  private OnnxGraphWriter build() {
    graph.input("input_ids", OnnxGraphWriter.INT64, "batch_size", "sequence_length")
        .input("attention_mask", OnnxGraphWriter.INT64, "batch_size", "sequence_length")
        .output("last_hidden_state", OnnxGraphWriter.FLOAT, "batch_size", "sequence_length", (long) DIMS)
        .output("sentence_embedding", OnnxGraphWriter.FLOAT, "batch_size", (long) DIMS);
    constants();
    // Token embeddings of standard deviation 0.03: about 0.7 after the sqrt(512) scaling.
    graph.generated("embed_tokens", GeneratedLayers.uniform(layers.nextSeed(), 0.052f), TestModels.GEMMA_VOCAB, HIDDEN);
    node("Gather", List.of("embed_tokens", "input_ids"), "embedded", "axis", 0);
    node("Mul", List.of("embedded", "embed_scale"), "hidden_0");
    String hidden = mediaInputs ? media("hidden_0") : "hidden_0";
    masks();
    perLayerInputs("hidden_0");
    for (int layer = 0; layer < LAYERS; layer++) {
      hidden = layer(layer, hidden);
    }
    String normed = layers.rmsNorm(hidden, HIDDEN, "final_norm");
    layers.linear(normed, HIDDEN, DIMS, "last_hidden_state");
    pooling();
    return graph;
  }

  private void constants() {
    graph.scalar("embed_scale", (float) Math.sqrt(HIDDEN))
        .scalar("per_layer_scale", (float) (1 / Math.sqrt(HIDDEN)))
        .longs("first_position", new long[] {0}, 1)
        .longs("per_layer_shape", new long[] {0, 0, LAYERS, HIDDEN}, 4)
        .longs("sliding_query_shape", new long[] {0, 0, HEADS, SLIDING_HEAD_DIM}, 4)
        .longs("sliding_kv_shape", new long[] {0, 0, SLIDING_KV_HEADS, SLIDING_HEAD_DIM}, 4)
        .longs("full_query_shape", new long[] {0, 0, HEADS, FULL_HEAD_DIM}, 4)
        .longs("full_kv_shape", new long[] {0, 0, 1, FULL_HEAD_DIM}, 4)
        // Query heads grouped by the key/value head they share: [batch, kv heads, queries per kv head, tokens, head].
        .longs("grouped_query_shape", new long[] {0, SLIDING_KV_HEADS, HEADS / SLIDING_KV_HEADS, -1, SLIDING_HEAD_DIM}, 5)
        .longs("ungrouped_shape", new long[] {0, HEADS, -1, SLIDING_HEAD_DIM}, 4)
        .longs("sliding_context_shape", new long[] {0, 0, HEADS * SLIDING_HEAD_DIM}, 3)
        .longs("full_context_shape", new long[] {0, 0, HEADS * FULL_HEAD_DIM}, 3);
    rotaryTables("full", 1_000_000, FULL_HEAD_DIM);
    rotaryTables("sliding", 10_000, SLIDING_HEAD_DIM);
  }

  /** cos and sin of position x inverse frequency, half a head wide, as RotaryEmbedding takes them. */
  private void rotaryTables(String name, double theta, int headDim) {
    float[] cos = new float[MAX_POSITIONS * headDim / 2];
    float[] sin = new float[MAX_POSITIONS * headDim / 2];
    for (int position = 0; position < MAX_POSITIONS; position++) {
      for (int i = 0; i < headDim / 2; i++) {
        double angle = position / Math.pow(theta, 2.0 * i / headDim);
        cos[position * headDim / 2 + i] = (float) Math.cos(angle);
        sin[position * headDim / 2 + i] = (float) Math.sin(angle);
      }
    }
    graph.floats("cos_" + name, cos, MAX_POSITIONS, headDim / 2).floats("sin_" + name, sin, MAX_POSITIONS, headDim / 2);
  }

  /**
   * Media rows added to the token states (nothing when empty), and an image placeholder with no
   * row failing the run, as the official export fails it ("indices element out of data bounds").
   */
  private String media(String input) {
    String states = input;
    for (String media : TestModels.GEMMA_2_MEDIA_INPUTS) {
      graph.input(media, OnnxGraphWriter.FLOAT, "num_" + media, (long) HIDDEN);
      node("ReduceSum", List.of(media), media + "_sum", "keepdims", 0);
      node("Add", List.of(states, media + "_sum"), states + "_" + media);
      states = states + "_" + media;
    }
    graph.longs("image_placeholder", new long[] {TestModels.GEMMA_2_IMAGE_PLACEHOLDER});
    node("Equal", List.of("input_ids", "image_placeholder"), "is_placeholder");
    node("NonZero", List.of("is_placeholder"), "placeholder_positions");
    node("Mul", List.of("placeholder_positions", "zero"), "placeholder_rows");
    node("Gather", List.of("image_features", "placeholder_rows"), "placeholder_features", "axis", 0);
    node("ReduceSum", List.of("placeholder_features"), "placeholder_sum", "keepdims", 0);
    node("Add", List.of(states, "placeholder_sum"), "hidden_with_media");
    return "hidden_with_media";
  }

  /** Attention biases (see {@link GeneratedLayers#attentionBiases}): the band is |q - k| <= 512. */
  private void masks() {
    layers.attentionBiases(WINDOW_RADIUS + 1);
    // [batch, 1, 1, tokens, tokens] for the grouped query heads of sliding layers.
    node("Unsqueeze", List.of("sliding_bias", "axes_1"), "sliding_bias_grouped");
  }

  /** P = RMSNorm(reshape(E W / sqrt(512), [batch, tokens, 24, 512])), one slice per layer. */
  private void perLayerInputs(String embeddings) {
    String projected = layers.linear(embeddings, HIDDEN, LAYERS * HIDDEN, "per_layer_projection");
    node("Mul", List.of(projected, "per_layer_scale"), "per_layer_scaled");
    node("Reshape", List.of("per_layer_scaled", "per_layer_shape"), "per_layer_split");
    layers.rmsNorm("per_layer_split", HIDDEN, "per_layer_inputs");
    for (int layer = 0; layer < LAYERS; layer++) {
      graph.longs("layer_index_" + layer, new long[] {layer});
      node("Gather", List.of("per_layer_inputs", "layer_index_" + layer), "per_layer_input_" + layer, "axis", 2);
    }
  }

  private String layer(int layer, String input) {
    String p = "layer_" + layer + "_";
    boolean full = layer % 6 == 5;
    int headDim = full ? FULL_HEAD_DIM : SLIDING_HEAD_DIM;
    int kvHeads = full ? 1 : SLIDING_KV_HEADS;
    String kind = full ? "full" : "sliding";
    // Query and key norm weights of head^-1/4 each: scores of unit spread with an attention scale of 1.
    float qkScale = (float) Math.pow(headDim, -0.25);

    String normed = layers.rmsNorm(input, HIDDEN, p + "attention_input");
    String query = layers.linear(normed, HIDDEN, HEADS * headDim, p + "query");
    String key = layers.linear(normed, HIDDEN, kvHeads * headDim, p + "key");
    String value = layers.linear(normed, HIDDEN, kvHeads * headDim, p + "value");
    String queryHeads = layers.rmsNorm(heads(query, kind + "_query_shape", p + "query_heads"), headDim, p + "query_norm", qkScale);
    String keyHeads = layers.rmsNorm(heads(key, kind + "_kv_shape", p + "key_heads"), headDim, p + "key_norm", qkScale);
    String valueHeads = layers.normalise(heads(value, kind + "_kv_shape", p + "value_heads"), p + "value_norm");
    String queryRotated = rotate(queryHeads, kind, p + "query_rotated");
    String keyRotated = rotate(keyHeads, kind, p + "key_rotated");
    node("Transpose", List.of(keyRotated), p + "key_t", "perm", new long[] {0, 1, 3, 2});
    String context;
    if (full) {
      // One key/value head: MatMul broadcasts it over the 4 query heads.
      node("MatMul", List.of(queryRotated, p + "key_t"), p + "scores_raw");
      node("Add", List.of(p + "scores_raw", "padding_bias"), p + "scores");
      node("Softmax", List.of(p + "scores"), p + "weights", "axis", -1);
      node("MatMul", List.of(p + "weights", valueHeads), p + "context_heads");
      context = p + "context_heads";
    } else {
      // Two key/value heads, each shared by two query heads.
      node("Reshape", List.of(queryRotated, "grouped_query_shape"), p + "query_grouped");
      node("Unsqueeze", List.of(p + "key_t", "axes_2"), p + "key_grouped");
      node("Unsqueeze", List.of(valueHeads, "axes_2"), p + "value_grouped");
      node("MatMul", List.of(p + "query_grouped", p + "key_grouped"), p + "scores_raw");
      node("Add", List.of(p + "scores_raw", "sliding_bias_grouped"), p + "scores");
      node("Softmax", List.of(p + "scores"), p + "weights", "axis", -1);
      node("MatMul", List.of(p + "weights", p + "value_grouped"), p + "context_grouped");
      node("Reshape", List.of(p + "context_grouped", "ungrouped_shape"), p + "context_heads");
      context = p + "context_heads";
    }
    node("Transpose", List.of(context), p + "context_t", "perm", new long[] {0, 2, 1, 3});
    node("Reshape", List.of(p + "context_t", kind + "_context_shape"), p + "context");
    String attended = layers.linear(p + "context", HEADS * headDim, HIDDEN, p + "output");
    node("Add", List.of(input, layers.rmsNorm(attended, HIDDEN, p + "attention_output")), p + "after_attention");

    String mlpInput = layers.rmsNorm(p + "after_attention", HIDDEN, p + "mlp_input");
    String gate = layers.linear(mlpInput, HIDDEN, INTERMEDIATE, p + "gate");
    String up = layers.linear(mlpInput, HIDDEN, INTERMEDIATE, p + "up");
    node("Mul", List.of(layers.geluTanh(gate, p + "gelu"), up), p + "gated");
    String down = layers.linear(p + "gated", INTERMEDIATE, HIDDEN, p + "down");
    node("Add", List.of(p + "after_attention", layers.rmsNorm(down, HIDDEN, p + "mlp_output")), p + "after_mlp");

    String perLayerGate = layers.linear(p + "after_mlp", HIDDEN, HIDDEN, p + "per_layer_gate");
    node("Mul", List.of(layers.geluTanh(perLayerGate, p + "per_layer_gelu"), "per_layer_input_" + layer), p + "per_layer_gated");
    String perLayer = layers.linear(p + "per_layer_gated", HIDDEN, HIDDEN, p + "per_layer_projection");
    node("Add", List.of(p + "after_mlp", layers.rmsNorm(perLayer, HIDDEN, p + "per_layer_output")), p + "after_per_layer");
    graph.floats(p + "scalar", new float[] {0.8f + 0.05f * GeneratedLayers.unit(layers.nextSeed(), 0)}, 1);
    node("Mul", List.of(p + "after_per_layer", p + "scalar"), p + "output_hidden");
    return p + "output_hidden";
  }

  private String heads(String input, String shape, String name) {
    return layers.heads(input, shape, name);
  }

  /** ONNX Runtime's RotaryEmbedding on [batch, heads, tokens, head], positions from 0, halves rotated. */
  private String rotate(String input, String kind, String name) {
    graph.contribNode("RotaryEmbedding", List.of(input, "first_position", "cos_" + kind, "sin_" + kind), List.of(name), "interleaved", 0);
    return name;
  }

  private void pooling() {
    layers.l2Normalised(layers.meanPooled("last_hidden_state"), "sentence_embedding");
  }

  private void node(String op, List<String> inputs, String output, Object... attributes) {
    layers.node(op, inputs, output, attributes);
  }
}
