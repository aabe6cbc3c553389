package org.embeddinggemma.quantization;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.lucene.util.VectorUtil;
import org.embeddinggemma.engine.EmbedderSettings;
import org.embeddinggemma.engine.EmbeddingInput;
import org.embeddinggemma.engine.ModelLoadException;
import org.embeddinggemma.engine.OnnxEmbeddingModel;
import org.embeddinggemma.engine.Task;
import org.embeddinggemma.engine.TextEmbedder;
import org.embeddinggemma.engine.TokenizedText;
import org.embeddinggemma.onnx.OnnxModel;

/**
 * Makes the W8A8 graph ({@link W8A8Graph}) of a model directory's fp32 graph and writes it beside
 * it as {@code <graph>_w8a8.onnx} with its own {@code _data} file.
 *
 * <p>Steps: the fp32 graph is run on {@link CalibrationTexts} with each linear layer's input exposed
 * as an extra output (a graph file written beside the source for the run, and deleted); each
 * layer's error when quantised is measured on those inputs ({@link LayerError}); a layer over {@code
 * maxLayerError} gets its input quantised in two passes, and if that is still over, stays fp32, as
 * does the head after pooling (one row per text: nothing to gain, the most to lose). The result is loaded, probed for batch invariance as the engine probes every
 * graph, and compared with the fp32 graph on the calibration texts. The output is deterministic:
 * the same source gives the same bytes.
 */
public final class W8A8Quantizer {

  /** The suffix of the quantised graph's file name. */
  public static final String SUFFIX = "_w8a8";
  /** Metadata key: the quantisation, {@value #W8A8}. */
  public static final String QUANTIZATION_KEY = "embedding_gemma.quantization";
  /** The value of {@link #QUANTIZATION_KEY}. */
  public static final String W8A8 = "w8a8: int8 weights per output column, uint8 activations per token";
  /** Metadata key: the weights of the layers that stayed fp32, comma-separated. */
  public static final String FP32_LAYERS_KEY = "embedding_gemma.fp32_layers";
  /** Metadata key: the weights of the layers whose input is quantised in two passes, comma-separated. */
  public static final String TWO_PASS_LAYERS_KEY = "embedding_gemma.two_pass_layers";
  /** Metadata key: each measured layer's relative error in one pass, as JSON. */
  public static final String LAYER_ERRORS_KEY = "embedding_gemma.layer_errors";
  /** Metadata key: the graph it was made from, relative to the model directory. */
  public static final String SOURCE_KEY = "embedding_gemma.source_graph";
  /**
   * Layers whose output moves more than this (relative L2) with their input quantised in one pass
   * get a second pass, and if that is not enough either, stay fp32.
   */
  public static final double DEFAULT_MAX_LAYER_ERROR = 0.03;
  /** Rows of each layer's input that its error is measured on. */
  static final int MEASURED_ROWS = 256;

  private final double maxLayerError;
  private final int threads;

  /**
   * @param maxLayerError layers whose relative output error exceeds it stay fp32; above 0
   * @param threads threads for ONNX Runtime and for measuring; at least 1
   */
  public W8A8Quantizer(double maxLayerError, int threads) {
    if (!(maxLayerError > 0)) {
      throw new IllegalArgumentException("maxLayerError must be above 0, got " + maxLayerError);
    }
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be at least 1, got " + threads);
    }
    this.maxLayerError = maxLayerError;
    this.threads = threads;
  }

  /** The path the quantised graph of {@code source} is written to. */
  public static Path outputFor(Path source) {
    String name = source.getFileName().toString();
    String stem = name.endsWith(".onnx") ? name.substring(0, name.length() - 5) : name;
    return source.resolveSibling(stem + SUFFIX + ".onnx");
  }

  /**
   * Quantises the graph the model directory loads ({@code onnx_file} of {@code embedding-gemma.json},
   * else {@code onnx/model.onnx}).
   *
   * @throws ModelLoadException if the model cannot be loaded
   * @throws IllegalArgumentException if its graph is already quantised or has no fp32 linear layers
   * @throws UncheckedIOException if a file cannot be read or written
   */
  public QuantizationReport quantize(Path modelDirectory) {
    long start = System.nanoTime();
    try (TextEmbedder fp32 = TextEmbedder.open(modelDirectory, new EmbedderSettings(threads, 1))) {
      Path source = fp32.directory().graph();
      OnnxModel model = OnnxModel.read(source);
      if (model.metadata().containsKey(QUANTIZATION_KEY)) {
        throw new IllegalArgumentException(
            "[" + source + "] is already quantised (" + model.metadata().get(QUANTIZATION_KEY)
                + "); quantise the fp32 graph it was made from, [" + model.metadata().get(SOURCE_KEY) + "]");
      }
      List<LinearLayer> linear = LinearLayer.find(model);
      if (linear.isEmpty()) {
        throw new IllegalArgumentException(
            "[" + source + "] has no fp32 linear layers (MatMul by a float weight) to quantise; give the fp32 export, onnx/model.onnx");
      }
      List<TokenizedText> texts = new ArrayList<>();
      for (String text : CalibrationTexts.TEXTS) {
        texts.add(fp32.prepare(EmbeddingInput.of(text, fp32.prompt(Task.DOCUMENT))));
      }
      Map<String, OnnxModel.Node> products = activationProducts(model);
      Calibration calibration = calibrate(model, fp32, linear, products.values(), texts);

      Map<LinearLayer, W8A8Graph.QuantisedLayer> quantised = new LinkedHashMap<>();
      List<QuantizationReport.Layer> layers = measure(model, linear, calibration, quantised);
      Map<String, Integer> chunked = new LinkedHashMap<>();
      products.forEach((name, node) -> {
        Integer inner = calibration.fixedInner(node.inputs().get(0));
        if (inner != null && inner > W8A8Graph.CHUNK) {
          chunked.put(name, inner);
        }
      });

      Path output = outputFor(source);
      W8A8Graph.write(model, quantised, chunked, metadata(fp32.directory().root(), source, layers), output);
      return verify(fp32, output, texts, layers, chunked.size(), source, start);
    }
  }

  /** MatMul nodes of two activations (attention's products), by name. */
  private static Map<String, OnnxModel.Node> activationProducts(OnnxModel model) {
    Map<String, OnnxModel.Node> products = new LinkedHashMap<>();
    for (OnnxModel.Node node : model.nodes()) {
      if (node.opType().equals("MatMul") && node.domain().isEmpty() && node.inputs().size() == 2
          && !model.initializers().containsKey(node.inputs().get(0))
          && !model.initializers().containsKey(node.inputs().get(1))) {
        products.put(node.name(), node);
      }
    }
    return products;
  }

  /** The calibration inputs of each layer: rows of its input, and the shapes each exposed tensor took. */
  private record Calibration(Map<String, float[]> rows, Map<String, Integer> rowCounts, Map<String, Set<Long>> innerSizes, Set<String> pooled) {
    /** The last dimension a tensor had on every text, or null if it changed with the text. */
    Integer fixedInner(String name) {
      Set<Long> sizes = innerSizes.get(name);
      return sizes != null && sizes.size() == 1 ? sizes.iterator().next().intValue() : null;
    }
  }

  private Calibration calibrate(
      OnnxModel model, TextEmbedder fp32, List<LinearLayer> linear, java.util.Collection<OnnxModel.Node> products,
      List<TokenizedText> texts) {
    Set<String> exposed = new LinkedHashSet<>();
    linear.forEach(layer -> exposed.add(layer.input()));
    products.forEach(node -> exposed.add(node.inputs().get(0)));
    var rewrite = model.rewrite();
    exposed.forEach(name -> rewrite.output(name, OnnxModel.FLOAT));
    Path calibrationGraph = model.file().resolveSibling("." + model.file().getFileName() + ".calibration");
    Map<String, List<float[]>> collected = new LinkedHashMap<>();
    Map<String, Set<Long>> inner = new HashMap<>();
    Set<String> pooled = new HashSet<>();
    try {
      rewrite.writeBesideSource(calibrationGraph);
      try (OnnxEmbeddingModel run = OnnxEmbeddingModel.load(calibrationGraph, fp32.pooling(), threads)) {
        Files.deleteIfExists(calibrationGraph);
        for (TokenizedText text : texts) {
          run.intermediates(text, exposed).forEach((name, tensor) -> {
            long[] shape = tensor.shape();
            inner.computeIfAbsent(name, k -> new HashSet<>()).add(shape[shape.length - 1]);
            if (shape.length == 2) {
              pooled.add(name);
            }
            collected.computeIfAbsent(name, k -> new ArrayList<>()).add(tensor.values());
          });
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot remove the calibration graph [" + calibrationGraph + "]", e);
    } finally {
      try {
        Files.deleteIfExists(calibrationGraph);
      } catch (IOException ignored) {
        // Only if the disk failed; the file is hidden and replaced by the next run.
      }
    }
    Map<String, float[]> rows = new HashMap<>();
    Map<String, Integer> counts = new HashMap<>();
    for (LinearLayer layer : linear) {
      if (rows.containsKey(layer.input())) {
        continue;
      }
      float[] sampled = sample(collected.get(layer.input()), layer.in());
      rows.put(layer.input(), sampled);
      counts.put(layer.input(), sampled.length / layer.in());
    }
    return new Calibration(rows, counts, inner, pooled);
  }

  /** Up to {@link #MEASURED_ROWS} rows, evenly spread over all texts' rows. */
  private static float[] sample(List<float[]> perText, int width) {
    int total = 0;
    for (float[] values : perText) {
      total += values.length / width;
    }
    int count = Math.min(total, MEASURED_ROWS);
    float[] rows = new float[count * width];
    for (int i = 0; i < count; i++) {
      int row = (int) ((long) i * total / count);
      for (float[] values : perText) {
        int inText = values.length / width;
        if (row < inText) {
          System.arraycopy(values, row * width, rows, i * width, width);
          break;
        }
        row -= inText;
      }
    }
    return rows;
  }

  private record Measured(ColumnInt8Weights weights, double error, double twoPassError, int passes, String fp32) {}

  private List<QuantizationReport.Layer> measure(
      OnnxModel model, List<LinearLayer> linear, Calibration calibration, Map<LinearLayer, W8A8Graph.QuantisedLayer> quantised) {
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<Measured>> results = new ArrayList<>();
      for (LinearLayer layer : linear) {
        results.add(pool.submit(() -> {
          float[] weight = model.initializers().get(layer.weight()).floats();
          ColumnInt8Weights q = ColumnInt8Weights.of(weight, layer.in(), layer.out());
          if (calibration.pooled().contains(layer.input())) {
            return new Measured(q, Double.NaN, Double.NaN, 0, "after pooling: one row per text");
          }
          float[] rows = calibration.rows().get(layer.input());
          int count = calibration.rowCounts().get(layer.input());
          double error = LayerError.relative(rows, count, weight, q, 1);
          if (error <= maxLayerError) {
            return new Measured(q, error, Double.NaN, 1, null);
          }
          double twoPass = LayerError.relative(rows, count, weight, q, 2);
          if (twoPass <= maxLayerError) {
            return new Measured(q, error, twoPass, 2, null);
          }
          return new Measured(q, error, twoPass, 0,
              String.format(Locale.ROOT, "error %.4f in one pass, %.4f in two, over %.4f", error, twoPass, maxLayerError));
        }));
      }
      List<QuantizationReport.Layer> layers = new ArrayList<>();
      for (int i = 0; i < linear.size(); i++) {
        Measured result = results.get(i).get();
        LinearLayer layer = linear.get(i);
        if (result.fp32() == null) {
          quantised.put(layer, new W8A8Graph.QuantisedLayer(result.weights(), result.passes()));
        }
        layers.add(new QuantizationReport.Layer(
            layer.weight(), layer.in(), layer.out(), result.error(), result.twoPassError(), result.passes(), result.fp32()));
      }
      return layers;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while measuring layer errors", e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException runtime) {
        throw runtime;
      }
      throw new IllegalStateException("cannot measure a layer's error: " + e.getCause(), e.getCause());
    } finally {
      pool.shutdownNow();
    }
  }

  private Map<String, String> metadata(Path root, Path source, List<QuantizationReport.Layer> layers) {
    StringBuilder errors = new StringBuilder("{");
    List<String> fp32 = new ArrayList<>();
    List<String> twoPass = new ArrayList<>();
    for (QuantizationReport.Layer layer : layers) {
      if (layer.passes() == 2) {
        twoPass.add(layer.weight());
      }
      if (!Double.isNaN(layer.error())) {
        errors.append(errors.length() > 1 ? "," : "").append('"').append(layer.weight()).append("\":")
            .append(String.format(Locale.ROOT, "%.6f", layer.error()));
      }
      if (layer.fp32() != null) {
        fp32.add(layer.weight());
      }
    }
    Map<String, String> metadata = new LinkedHashMap<>();
    metadata.put(QUANTIZATION_KEY, W8A8);
    metadata.put(SOURCE_KEY, root.relativize(source).toString());
    metadata.put(FP32_LAYERS_KEY, String.join(",", fp32));
    metadata.put(TWO_PASS_LAYERS_KEY, String.join(",", twoPass));
    metadata.put(LAYER_ERRORS_KEY, errors.append('}').toString());
    metadata.put("embedding_gemma.max_layer_error", String.format(Locale.ROOT, "%.6f", maxLayerError));
    return metadata;
  }

  private QuantizationReport verify(
      TextEmbedder fp32, Path output, List<TokenizedText> texts, List<QuantizationReport.Layer> layers, int chunked,
      Path source, long start) {
    try (OnnxEmbeddingModel quantised = OnnxEmbeddingModel.load(output, fp32.pooling(), threads)) {
      double sum = 0;
      double least = 1;
      for (TokenizedText text : texts) {
        float[] reference = fp32.embedTokenized(List.of(text), fp32.modelDims()).get(0).vector();
        float[] candidate = quantised.embed(List.of(text))[0];
        double cosine = VectorUtil.cosine(reference, candidate);
        sum += cosine;
        least = Math.min(least, cosine);
      }
      return new QuantizationReport(
          output, source, layers, chunked, sum / texts.size(), least, quantised.batchInvariant(),
          (System.nanoTime() - start) / 1e9);
    }
  }
}
