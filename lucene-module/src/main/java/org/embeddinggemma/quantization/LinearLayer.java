package org.embeddinggemma.quantization;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.embeddinggemma.onnx.OnnxModel;

/**
 * A linear layer of a graph: a {@code MatMul} of an activation by a float weight initializer {@code
 * W[in, out]}, the form the EmbeddingGemma exports give every projection.
 *
 * @param node the MatMul node's name
 * @param input the activation it multiplies
 * @param weight the weight initializer's name
 * @param output the node's output
 * @param in the weight's rows, the activation's last dimension
 * @param out the weight's columns
 */
public record LinearLayer(String node, String input, String weight, String output, int in, int out) {

  /** The graph's linear layers, in node order. */
  public static List<LinearLayer> find(OnnxModel model) {
    Map<String, OnnxModel.Tensor> initializers = model.initializers();
    List<LinearLayer> layers = new ArrayList<>();
    for (OnnxModel.Node node : model.nodes()) {
      if (!node.opType().equals("MatMul") || !node.domain().isEmpty() || node.inputs().size() != 2) {
        continue;
      }
      OnnxModel.Tensor weight = initializers.get(node.inputs().get(1));
      if (weight == null || initializers.containsKey(node.inputs().get(0))) {
        continue;
      }
      long[] dims = weight.dims();
      if (weight.dataType() == OnnxModel.FLOAT && dims.length == 2 && weight.readable()) {
        layers.add(new LinearLayer(node.name(), node.inputs().get(0), weight.name(), node.outputs().get(0), (int) dims[0], (int) dims[1]));
      }
    }
    return layers;
  }
}
