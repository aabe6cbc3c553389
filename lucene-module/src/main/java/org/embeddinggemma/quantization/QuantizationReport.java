package org.embeddinggemma.quantization;

import java.nio.file.Path;
import java.util.List;

/**
 * What {@link W8A8Quantizer} wrote and measured.
 *
 * @param graph the quantised graph
 * @param source the fp32 graph it was made from
 * @param layers every linear layer, in graph order, with its error and whether it stayed fp32
 * @param chunkedProducts activation products summed in chunks of {@link W8A8Graph#CHUNK}
 * @param meanCosine mean cosine of the quantised graph's vectors to the fp32 graph's, over the calibration texts
 * @param leastCosine the least of those cosines
 * @param batchInvariant whether the quantised graph passed the engine's batch probe
 * @param seconds the conversion's wall time
 */
public record QuantizationReport(
    Path graph, Path source, List<Layer> layers, int chunkedProducts, double meanCosine, double leastCosine,
    boolean batchInvariant, double seconds) {

  /**
   * One linear layer.
   *
   * @param weight its weight's name
   * @param in its input width
   * @param out its output width
   * @param error its relative output error with its input quantised in one pass ({@link
   *     LayerError}); NaN where not measured
   * @param twoPassError the same with its input quantised in two passes; NaN where not measured
   *     (one pass was close enough)
   * @param passes how many passes its input is quantised in: 1 or 2, or 0 where it stayed fp32
   * @param fp32 why it stayed fp32, or null where it is quantised
   */
  public record Layer(String weight, int in, int out, double error, double twoPassError, int passes, String fp32) {}

  /** The layers whose input is quantised in two passes. */
  public List<Layer> twoPassLayers() {
    return layers.stream().filter(layer -> layer.passes() == 2).toList();
  }

  /** The layers that stayed fp32. */
  public List<Layer> fp32Layers() {
    return layers.stream().filter(layer -> layer.fp32() != null).toList();
  }
}
