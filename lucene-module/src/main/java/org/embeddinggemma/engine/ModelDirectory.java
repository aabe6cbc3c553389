package org.embeddinggemma.engine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The files of a model on disk, found in either of two layouts:
 *
 * <ul>
 *   <li>the onnx-community EmbeddingGemma export: {@code onnx/model.onnx} (its weights in {@code
 *       onnx/model.onnx_data} beside it), quantised variants such as {@code
 *       onnx/model_quantized.onnx} and {@code onnx/model_q4.onnx}, and {@code tokenizer.json}, {@code
 *       tokenizer_config.json} at the top;
 *   <li>a plain layout: {@code model.onnx} and {@code tokenizer.json} side by side.
 * </ul>
 *
 * <p>An optional {@value ModelConfig#FILE_NAME} picks another graph (for example a quantised
 * variant) and overrides other defaults; see {@link ModelConfig}.
 */
public final class ModelDirectory {

  /** Graphs looked for, in order, when the configuration names none. */
  public static final List<String> DEFAULT_GRAPHS = List.of("onnx/model.onnx", "model.onnx");

  /** The tokenizer file. */
  public static final String TOKENIZER_FILE = "tokenizer.json";

  /** The optional HuggingFace tokenizer configuration (special tokens). */
  public static final String TOKENIZER_CONFIG_FILE = "tokenizer_config.json";

  private final Path root;
  private final Path graph;
  private final Path tokenizer;
  private final Path tokenizerConfig;
  private final ModelConfig config;
  private final ModelPrompts prompts;

  private ModelDirectory(Path root, Path graph, Path tokenizer, Path tokenizerConfig, ModelConfig config, ModelPrompts prompts) {
    this.root = root;
    this.graph = graph;
    this.tokenizer = tokenizer;
    this.tokenizerConfig = tokenizerConfig;
    this.config = config;
    this.prompts = prompts;
  }

  /**
   * Finds a model's files in a directory.
   *
   * @throws ModelLoadException if the directory, the graph or the tokenizer is missing, or the
   *     configuration file is invalid; the message lists what was found
   */
  public static ModelDirectory open(Path directory) {
    Path root = directory.toAbsolutePath().normalize();
    if (!Files.isDirectory(root)) {
      throw new ModelLoadException("model directory [" + root + "] does not exist or is not a directory");
    }
    checkReadable(root);
    if (Files.isDirectory(root.resolve("onnx"))) {
      checkReadable(root.resolve("onnx"));
    }
    Path configFile = root.resolve(ModelConfig.FILE_NAME);
    ModelConfig config = Files.isRegularFile(configFile) ? ModelConfig.read(configFile) : ModelConfig.DEFAULTS;
    Path graph = findGraph(root, config);
    Path tokenizer = root.resolve(TOKENIZER_FILE);
    if (!Files.isRegularFile(tokenizer)) {
      throw new ModelLoadException(
          "model directory [" + root + "] has no " + TOKENIZER_FILE
              + "; copy the model's HuggingFace tokenizer.json next to the onnx/ folder or model.onnx");
    }
    Path tokenizerConfig = root.resolve(TOKENIZER_CONFIG_FILE);
    return new ModelDirectory(
        root, graph, tokenizer, Files.isRegularFile(tokenizerConfig) ? tokenizerConfig : null, config, ModelPrompts.resolve(root, config));
  }

  /** A folder this process cannot list or enter looks empty: say so instead of "no model.onnx". */
  private static void checkReadable(Path folder) {
    if (!Files.isReadable(folder) || !Files.isExecutable(folder)) {
      throw new ModelLoadException(
          "model directory [" + folder + "] cannot be read by user [" + System.getProperty("user.name")
              + "], who runs this process; give that user read access to the folder and its files (e.g. chmod -R a+rX)");
    }
  }

  private static Path findGraph(Path root, ModelConfig config) {
    if (config.onnxFile() != null) {
      Path graph = root.resolve(config.onnxFile()).normalize();
      if (!graph.startsWith(root)) {
        throw new ModelLoadException(
            "onnx_file [" + config.onnxFile() + "] in " + ModelConfig.FILE_NAME + " points outside the model directory [" + root + "]");
      }
      if (!Files.isRegularFile(graph)) {
        throw new ModelLoadException(
            "onnx_file [" + config.onnxFile() + "] in " + ModelConfig.FILE_NAME + " does not exist in [" + root
                + "]; ONNX files found: " + onnxFiles(root));
      }
      return graph;
    }
    for (String candidate : DEFAULT_GRAPHS) {
      Path graph = root.resolve(candidate);
      if (Files.isRegularFile(graph)) {
        return graph;
      }
    }
    throw new ModelLoadException(
        "model directory [" + root + "] has none of " + DEFAULT_GRAPHS + "; ONNX files found: " + onnxFiles(root)
            + "; to use one of them, write {\"onnx_file\": \"<path>\"} to " + ModelConfig.FILE_NAME);
  }

  private static List<String> onnxFiles(Path root) {
    List<String> found = new ArrayList<>();
    for (Path folder : List.of(root, root.resolve("onnx"))) {
      if (!Files.isDirectory(folder)) {
        continue;
      }
      try (Stream<Path> files = Files.list(folder)) {
        files
            .filter(file -> file.getFileName().toString().endsWith(".onnx"))
            .map(file -> root.relativize(file).toString())
            .sorted()
            .forEach(found::add);
      } catch (IOException e) {
        found.add("<cannot list " + folder + ": " + e.getMessage() + ">");
      }
    }
    return found;
  }

  /** The directory, absolute and normalised. */
  public Path root() {
    return root;
  }

  /** The ONNX graph to load. */
  public Path graph() {
    return graph;
  }

  /**
   * The directory's other ONNX graphs, which are not loaded: quantised variants, and EmbeddingGemma
   * 2's vision and audio encoders ({@code onnx/vision_encoder.onnx}, {@code onnx/audio_encoder.onnx}).
   */
  public List<String> otherGraphs() {
    String inUse = root.relativize(graph).toString();
    return onnxFiles(root).stream().filter(file -> !file.equals(inUse)).toList();
  }

  /** The {@code tokenizer.json} file. */
  public Path tokenizer() {
    return tokenizer;
  }

  /** The special tokens asked for by {@code tokenizer_config.json}, if the directory has one. */
  public SpecialTokens specialTokens() {
    return tokenizerConfig == null ? SpecialTokens.FROM_TOKENIZER : SpecialTokens.read(tokenizerConfig);
  }

  /** The prompt of each task, and where it came from; see {@link ModelPrompts}. */
  public ModelPrompts prompts() {
    return prompts;
  }

  /** The overrides of {@value ModelConfig#FILE_NAME}, or {@link ModelConfig#DEFAULTS}. */
  public ModelConfig config() {
    return config;
  }
}
