package org.embeddinggemma.cli;

import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Locale;
import org.embeddinggemma.engine.CpuFeatures;
import org.embeddinggemma.engine.EmbedderSettings;
import org.embeddinggemma.engine.ModelLoadException;
import org.embeddinggemma.quantization.QuantizationReport;
import org.embeddinggemma.quantization.W8A8Quantizer;

/**
 * {@code quantize}: writes the W8A8 graph of a model directory's fp32 graph into that directory
 * ({@link W8A8Quantizer}), reports what it measured, and prints the new graph's path on its last
 * line, for {@code embedding-gemma.json}'s {@code onnx_file}.
 */
final class QuantizeCommand {

  static final String USAGE =
      """
      usage: quantize [--max-layer-error E] [--threads N] DIR
        DIR                  model directory; its fp32 graph (onnx/model.onnx, or embedding-gemma.json's onnx_file)
                             is read and onnx/model_w8a8.onnx (+ _data) written beside it
        --max-layer-error E  linear layers whose output moves more than E (relative) when quantised stay fp32
                             (default: %s)
        --threads N          threads (default: available processors)
      Prints each layer kept fp32, the cosine to fp32 on calibration texts, and last the new graph's path.
      To load it: {"onnx_file": "<that path, relative to DIR>"} in DIR/embedding-gemma.json.
      """.formatted(W8A8Quantizer.DEFAULT_MAX_LAYER_ERROR);

  /** Under this cosine to fp32 on a calibration text, the command warns. */
  static final double CLOSE_TO_FP32 = 0.999;

  private QuantizeCommand() {}

  /**
   * Runs the command.
   *
   * @return 0 on success, 1 if the model could not be quantised, 2 for a usage error
   */
  static int run(String[] args, PrintStream out, PrintStream err) {
    double maxLayerError = W8A8Quantizer.DEFAULT_MAX_LAYER_ERROR;
    int threads = EmbedderSettings.DEFAULTS.intraOpThreads();
    Path model = null;
    try {
      CommandLine line = new CommandLine(args);
      while (line.hasNext()) {
        String arg = line.next();
        switch (arg) {
          case "-h", "--help" -> {
            err.print(USAGE);
            return 0;
          }
          case "--max-layer-error" -> maxLayerError = line.positiveDecimal(arg);
          case "--threads" -> threads = line.positive(arg);
          default -> {
            if (arg.startsWith("-") || model != null) {
              throw new IllegalArgumentException("unknown argument [" + arg + "]");
            }
            model = Path.of(arg);
          }
        }
      }
      if (model == null) {
        throw new IllegalArgumentException("a model directory is required");
      }
    } catch (IllegalArgumentException e) {
      err.println("quantize: " + e.getMessage());
      err.print(USAGE);
      return 2;
    }
    double limit = maxLayerError;
    try {
      QuantizationReport report = new W8A8Quantizer(limit, threads).quantize(model);
      long quantised = report.layers().size() - report.fp32Layers().size();
      out.printf(Locale.ROOT, "quantize: %s: %d of %d linear layers int8, %d attention products in chunks, in %.1f s%n",
          report.source(), quantised, report.layers().size(), report.chunkedProducts(), report.seconds());
      report.layers().stream().filter(layer -> !Double.isNaN(layer.error())).mapToDouble(QuantizationReport.Layer::error).max()
          .ifPresent(max -> out.printf(Locale.ROOT, "quantize: largest layer error %.4f (limit %s)%n", max, limit));
      for (QuantizationReport.Layer layer : report.fp32Layers()) {
        out.printf(Locale.ROOT, "quantize: kept fp32: %s [%d, %d]: %s%n", layer.weight(), layer.in(), layer.out(), layer.fp32());
      }
      out.printf(Locale.ROOT, "quantize: cosine to fp32 on %d calibration texts: mean %.5f, least %.5f; batch invariant: %s%n",
          org.embeddinggemma.quantization.CalibrationTexts.TEXTS.size(), report.meanCosine(), report.leastCosine(), report.batchInvariant());
      out.println("quantize: CPU " + CpuFeatures.detect().describe());
      if (report.leastCosine() < CLOSE_TO_FP32) {
        err.printf(Locale.ROOT,
            "quantize: warning: a calibration text's vector is at cosine %.5f to fp32's, under %s: this graph moves vectors"
                + " noticeably; compare its search results with fp32's before using it, or try a lower --max-layer-error%n",
            report.leastCosine(), CLOSE_TO_FP32);
      }
      out.println(report.graph());
      return 0;
    } catch (ModelLoadException | IllegalArgumentException | UncheckedIOException e) {
      err.println("quantize: " + e.getMessage());
      return 1;
    }
  }
}
