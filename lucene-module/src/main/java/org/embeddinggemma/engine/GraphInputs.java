package org.embeddinggemma.engine;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.TensorInfo;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What each input of an embedding graph is, worked out once when the graph loads: the token ids and
 * attention mask every graph takes, BERT's segment ids (fed zeros), and media inputs that a text
 * run feeds empty. EmbeddingGemma 2's official export declares {@code image_features}, {@code
 * video_features} and {@code audio_features} (float32 {@code [n, 512]}) beside the text inputs and
 * needs all five in every run; for text, no media rows replace placeholder tokens, so each is a
 * {@code [0, width]} tensor, its width read from the graph. Any other input is refused at load,
 * named, with a hint that fixes it.
 */
public final class GraphInputs {

  /** Token ids input. */
  public static final String INPUT_IDS = "input_ids";

  /** Attention mask input: 1 for real tokens, 0 for padding. */
  public static final String ATTENTION_MASK = "attention_mask";

  /** Segment ids input of BERT-style graphs, fed with zeros when the graph has it. */
  public static final String TOKEN_TYPE_IDS = "token_type_ids";

  /** How the names of media inputs end: {@code image_features}, {@code audio_features}, … */
  static final String MEDIA_SUFFIX = "_features";

  private static final String EXPORT_HINT =
      "export the model for feature extraction with its inputs named input_ids and attention_mask"
          + " (e.g. optimum-cli export onnx --task feature-extraction), or use the onnx-community export";

  /** A media input and the width of its rows. */
  public record MediaInput(String name, long width) {}

  private final boolean tokenTypeIds;
  private final List<MediaInput> media;

  private GraphInputs(boolean tokenTypeIds, List<MediaInput> media) {
    this.tokenTypeIds = tokenTypeIds;
    this.media = List.copyOf(media);
  }

  /**
   * Reads a graph's inputs.
   *
   * @param graph the graph file, for messages
   * @param inputs the session's inputs by name
   * @throws ModelLoadException if a text input is missing or of the wrong type, or an input is
   *     neither a text input nor a media input of shape {@code [n, width]}
   */
  public static GraphInputs of(Path graph, Map<String, NodeInfo> inputs) {
    String found = describe(inputs);
    for (String required : List.of(INPUT_IDS, ATTENTION_MASK)) {
      if (!inputs.containsKey(required)) {
        throw new ModelLoadException(
            "ONNX graph [" + graph + "] has no input [" + required + "]; found inputs " + found + "; " + EXPORT_HINT);
      }
    }
    List<MediaInput> media = new ArrayList<>();
    for (Map.Entry<String, NodeInfo> input : new TreeMap<>(inputs).entrySet()) {
      String name = input.getKey();
      TensorInfo tensor = input.getValue().getInfo() instanceof TensorInfo info ? info : null;
      if (name.equals(INPUT_IDS) || name.equals(ATTENTION_MASK) || name.equals(TOKEN_TYPE_IDS)) {
        if (tensor == null || tensor.type != OnnxJavaType.INT64 || tensor.getShape().length != 2) {
          throw new ModelLoadException(
              "ONNX graph [" + graph + "] input [" + name + "] is " + input.getValue().getInfo()
                  + ", expected an int64 tensor of shape [batch, tokens]; " + EXPORT_HINT);
        }
      } else if (name.endsWith(MEDIA_SUFFIX)
          && tensor != null
          && tensor.type == OnnxJavaType.FLOAT
          && tensor.getShape().length == 2
          && tensor.getShape()[1] > 0) {
        media.add(new MediaInput(name, tensor.getShape()[1]));
      } else {
        throw new ModelLoadException(
            "ONNX graph [" + graph + "] has input [" + name + "] that this engine cannot feed; found inputs " + found
                + ", expected input_ids, attention_mask, optionally token_type_ids, and media inputs *" + MEDIA_SUFFIX
                + " as float [n, width] (fed empty for text); " + EXPORT_HINT);
      }
    }
    return new GraphInputs(inputs.containsKey(TOKEN_TYPE_IDS), media);
  }

  /** Whether the graph takes segment ids, fed as zeros. */
  public boolean feedsTokenTypeIds() {
    return tokenTypeIds;
  }

  /** The media inputs a text run feeds empty, by name; none for text-only graphs. */
  public List<MediaInput> emptyMediaInputs() {
    return media;
  }

  /**
   * The tensors of one run. The caller closes them.
   *
   * @param ids token ids, {@code shape[0] × shape[1]}, padded
   * @param mask the attention mask of the same shape
   * @param shape {@code [batch, tokens]}
   * @throws OrtException if ONNX Runtime cannot make a tensor
   */
  Map<String, OnnxTensor> tensors(OrtEnvironment environment, LongBuffer ids, LongBuffer mask, long[] shape) throws OrtException {
    Map<String, OnnxTensor> tensors = new HashMap<>();
    try {
      tensors.put(INPUT_IDS, OnnxTensor.createTensor(environment, ids, shape));
      tensors.put(ATTENTION_MASK, OnnxTensor.createTensor(environment, mask, shape));
      if (tokenTypeIds) {
        int count = Math.toIntExact(shape[0] * shape[1]);
        LongBuffer zeros = ByteBuffer.allocateDirect(count * Long.BYTES).order(ByteOrder.nativeOrder()).asLongBuffer();
        tensors.put(TOKEN_TYPE_IDS, OnnxTensor.createTensor(environment, zeros, shape));
      }
      for (MediaInput input : media) {
        tensors.put(input.name(), OnnxTensor.createTensor(environment, FloatBuffer.allocate(0), new long[] {0, input.width()}));
      }
      return tensors;
    } catch (OrtException | RuntimeException e) {
      tensors.values().forEach(OnnxTensor::close);
      throw e;
    }
  }

  private static String describe(Map<String, NodeInfo> nodes) {
    Set<String> described = new TreeSet<>();
    nodes.forEach((name, info) -> described.add(name + " " + info.getInfo()));
    return described.toString();
  }
}
