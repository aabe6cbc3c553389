package org.embeddinggemma.engine;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * Turns texts into embeddings with a model loaded once from a {@link ModelDirectory}: prompt,
 * tokenise, run the ONNX graph in batches, pool, truncate to the requested dims and re-normalise.
 *
 * <p>Thread-safe; close it to release the native session and tokenizer.
 *
 * <pre>{@code
 * try (TextEmbedder embedder = TextEmbedder.open(Path.of("/models/embeddinggemma-300m"))) {
 *   Embedding query = embedder.embed(EmbeddingInput.of("how do plants eat?", embedder.prompt(Task.QUERY)), 256);
 *   byte[] forByteField = query.int8Vector();
 * }
 * }</pre>
 */
public final class TextEmbedder implements AutoCloseable {

  /**
   * EmbeddingGemma's window, and the most a model whose files declare none is asked to run; see
   * {@link ModelWindow}.
   */
  public static final int DEFAULT_MAX_TOKENS = 2048;

  private final ModelDirectory directory;
  private final TextTokenizer tokenizer;
  private final OnnxEmbeddingModel model;
  private final ModelWindow window;
  private final BatchPlanner planner;
  private final ModelFingerprint fingerprint;
  private final int defaultDims;

  private TextEmbedder(
      ModelDirectory directory, TextTokenizer tokenizer, OnnxEmbeddingModel model, ModelWindow window, EmbedderSettings settings,
      ModelFingerprint fingerprint) {
    this.directory = directory;
    this.fingerprint = fingerprint;
    this.tokenizer = tokenizer;
    this.model = model;
    this.window = window;
    // A batch-dependent graph would give a document a different vector in a bulk than alone.
    this.planner = new BatchPlanner(model.batchInvariant() ? settings.maxBatchSize() : 1, settings.tokenBudget());
    Integer configuredDims = directory.config().dims();
    if (configuredDims != null && configuredDims > model.dims()) {
      throw new ModelLoadException(
          "dims [" + configuredDims + "] in " + ModelConfig.FILE_NAME + " of [" + directory.root()
              + "] exceeds the model's " + model.dims() + " dims");
    }
    this.defaultDims = configuredDims == null ? model.dims() : configuredDims;
  }

  /** Opens a model with {@link EmbedderSettings#DEFAULTS}. */
  public static TextEmbedder open(Path modelDirectory) {
    return open(modelDirectory, EmbedderSettings.DEFAULTS);
  }

  /**
   * Opens a model.
   *
   * @throws ModelLoadException if the directory does not hold a usable model; see {@link
   *     ModelDirectory} and {@link OnnxEmbeddingModel#load}
   */
  public static TextEmbedder open(Path modelDirectory, EmbedderSettings settings) {
    ModelDirectory directory = ModelDirectory.open(modelDirectory);
    ModelConfig config = directory.config();
    ModelWindow declared = ModelWindow.declared(directory.root());
    int maxTokens = config.maxTokens() != null ? config.maxTokens() : declared != null ? declared.maxTokens() : DEFAULT_MAX_TOKENS;
    // Gemma's 33 MB tokenizer.json takes about as long to parse as its 1.2 GB graph takes to load:
    // the two load at once.
    CompletableFuture<TextTokenizer> tokenizerLoad = new CompletableFuture<>();
    Thread loader = new Thread(() -> {
      try {
        tokenizerLoad.complete(TextTokenizer.load(directory.tokenizer(), directory.specialTokens(), maxTokens));
      } catch (Throwable t) {
        tokenizerLoad.completeExceptionally(t);
      }
    }, "embedding-gemma-tokenizer-load");
    loader.setDaemon(true);
    loader.start();
    OnnxEmbeddingModel model = null;
    TextTokenizer tokenizer = null;
    Throwable failure = null;
    try {
      model = OnnxEmbeddingModel.load(directory.graph(), config.pooling(), settings.intraOpThreads());
    } catch (RuntimeException | Error e) {
      failure = e;
    }
    try {
      // Awaited even when the graph failed, so that the tokenizer is closed too.
      tokenizer = await(tokenizerLoad);
    } catch (RuntimeException | Error e) {
      if (failure == null) {
        failure = e;
      } else {
        failure.addSuppressed(e);
      }
    }
    if (failure == null) {
      try {
        checkVocabulary(directory, tokenizer, model);
        OnnxEmbeddingModel graph = model;
        ModelWindow window = ModelWindow.resolve(directory, length -> runs(graph, length));
        if (window.maxTokens() != tokenizer.maxTokens()) {
          // Only for a graph that runs fewer tokens than its files admit: the tokenizer is opened again for them.
          tokenizer.close();
          tokenizer = null;
          tokenizer = TextTokenizer.load(directory.tokenizer(), directory.specialTokens(), window.maxTokens());
        }
        return new TextEmbedder(directory, tokenizer, model, window, settings, ModelFingerprint.of(directory));
      } catch (RuntimeException e) {
        failure = e;
      }
    }
    closeAll(failure, model, tokenizer);
    if (failure instanceof Error error) {
      throw error;
    }
    throw (RuntimeException) failure;
  }

  /** Closes what a failed load opened, and gives back the native memory it had used. */
  private static void closeAll(Throwable failure, AutoCloseable... opened) {
    for (AutoCloseable resource : opened) {
      if (resource != null) {
        try {
          resource.close();
        } catch (Exception | Error e) {
          failure.addSuppressed(e);
        }
      }
    }
    NativeRuntime.releaseFreedNativeMemory();
  }

  private static TextTokenizer await(CompletableFuture<TextTokenizer> load) {
    try {
      return load.join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof RuntimeException runtime) {
        throw runtime;
      }
      if (e.getCause() instanceof Error error) {
        throw error;
      }
      throw e;
    }
  }

  /** Whether the graph runs one text of {@code length} tokens. */
  private static boolean runs(OnnxEmbeddingModel model, int length) {
    try {
      model.embed(List.of(new TokenizedText(ModelWindow.probeIds(length), false)));
      return true;
    } catch (InferenceException e) {
      return false;
    }
  }

  /**
   * A tokenizer of another model gives ids the graph's embedding table does not have: such texts
   * would fail one by one at inference ({@code Gather ... idx=236223 must be within [-30522,30521]}).
   */
  private static void checkVocabulary(ModelDirectory directory, TextTokenizer tokenizer, OnnxEmbeddingModel model) {
    long largest = tokenizer.largestTokenId();
    try {
      model.embed(List.of(new TokenizedText(new long[] {largest}, false)));
    } catch (IllegalStateException e) {
      throw new ModelLoadException(
          "tokenizer [" + directory.tokenizer() + "] has token ids up to " + largest + " but ONNX graph [" + directory.graph()
              + "] cannot embed token id " + largest + "; the tokenizer and the graph must come from the same model", e);
    }
  }

  /** The model's files. */
  public ModelDirectory directory() {
    return directory;
  }

  /** Which model this is, from its graph and tokenizer files; see {@link ModelFingerprint}. */
  public ModelFingerprint fingerprint() {
    return fingerprint;
  }

  /**
   * How {@code bin/quantize} quantised the loaded graph, or null for a graph it did not make (an
   * fp32 export, or an export's own quantised variant).
   */
  public String graphQuantization() {
    return model.quantization();
  }

  /** The dims of the model's own vectors, the most {@link #embed} can return. */
  public int modelDims() {
    return model.dims();
  }

  /** The dims used when a caller has no preference: {@code dims} of the model config, else {@link #modelDims()}. */
  public int defaultDims() {
    return defaultDims;
  }

  /** The longest input in tokens; longer texts are truncated and flagged. */
  public int maxTokens() {
    return window.maxTokens();
  }

  /** The model's window and what set it; see {@link ModelWindow}. */
  public ModelWindow window() {
    return window;
  }

  /**
   * The most texts run at once: {@link EmbedderSettings#maxBatchSize()}, or 1 when the graph is not
   * {@linkplain OnnxEmbeddingModel#batchInvariant() batch invariant}.
   */
  public int maxBatchSize() {
    return planner.maxBatchSize();
  }

  /**
   * How texts are cut into model runs: by {@link #maxBatchSize()} and by {@link
   * EmbedderSettings#tokenBudget()} padded tokens.
   */
  public BatchPlanner planner() {
    return planner;
  }

  /** The pooling in use. */
  public PoolingStrategy pooling() {
    return model.pooling();
  }

  /** What the graph's inputs are, as read at load: which media inputs each run feeds empty. */
  public GraphInputs graphInputs() {
    return model.inputs();
  }

  /** Whether the model takes task prompts; if not, {@link #prompt} is always {@link PromptTemplate#NONE}. */
  public boolean takesTaskPrompts() {
    return directory.prompts().taskPrompts();
  }

  /** The prompt this model uses for a task. */
  public PromptTemplate prompt(Task task) {
    return directory.prompts().prompt(task);
  }

  /** Where the text's own tokens lie in it, with no truncation; see {@link TextTokenizer#tokenSpans}. */
  public TokenSpans tokenSpans(String text) {
    return tokenizer.tokenSpans(text);
  }

  /** As {@link #tokenSpans(String)}, stopping once more than {@code most} tokens are found. */
  public TokenSpans tokenSpans(String text, int most) {
    return tokenizer.tokenSpans(text, most);
  }

  /** Tokenises a text exactly as {@link #embed} does, prompt included. */
  public TokenizedText tokenize(EmbeddingInput input) {
    return tokenizer.encode(input.promptedText());
  }

  /**
   * Embeds one text.
   *
   * @see #embed(List, int)
   */
  public Embedding embed(EmbeddingInput input, int dims) {
    return embed(List.of(input), dims).get(0);
  }

  /**
   * Embeds texts. Texts are run in batches of similar length, so that little is padded, cut by
   * {@link #planner()}; the results come back in the order of {@code inputs}.
   *
   * @param dims the Matryoshka dims of the result, from 1 to {@link #modelDims()}
   * @throws IllegalArgumentException if {@code dims} is out of range
   * @throws TextRejectedException if a text makes no tokens of its own; its index is that of the
   *     text when there are several
   * @throws InferenceException if inference fails
   */
  public List<Embedding> embed(List<EmbeddingInput> inputs, int dims) {
    checkDims(dims);
    List<TokenizedText> tokenized = new ArrayList<>(inputs.size());
    for (int i = 0; i < inputs.size(); i++) {
      try {
        tokenized.add(prepare(inputs.get(i)));
      } catch (TextRejectedException e) {
        throw inputs.size() == 1 ? e : e.at(i);
      }
    }
    Embedding[] embeddings = new Embedding[inputs.size()];
    for (int[] run : planner.plan(tokenized)) {
      List<TokenizedText> batch = new ArrayList<>(run.length);
      for (int index : run) {
        batch.add(tokenized.get(index));
      }
      List<Embedding> embedded = embedTokenized(batch, dims);
      for (int k = 0; k < run.length; k++) {
        embeddings[run[k]] = embedded.get(k);
      }
    }
    return List.of(embeddings);
  }

  /**
   * Tokenises a text as {@link #embed(List, int)} does, for callers that plan their own runs with
   * {@link #planner()} and {@link #embedTokenized}.
   *
   * @throws TextRejectedException if the text makes no tokens of its own
   */
  public TokenizedText prepare(EmbeddingInput input) {
    if (!EmbeddingInput.hasAssignedCharacter(input.text()) && tokenizer.tokenSpans(input.text()).size() == 0) {
      // Characters the tokenizer drops (BERT's normaliser removes unassigned code points and the
      // replacement for a lone surrogate): the prompt and special tokens alone would give every
      // such text the same vector.
      throw TextRejectedException.noTokens(-1);
    }
    return tokenize(input);
  }

  /**
   * Embeds tokenised texts in one model run, as planned by {@link #planner()}.
   *
   * @param dims the Matryoshka dims of the result, from 1 to {@link #modelDims()}
   * @throws IllegalArgumentException if {@code dims} is out of range or the batch is empty
   * @throws InferenceException if inference fails
   */
  public List<Embedding> embedTokenized(List<TokenizedText> batch, int dims) {
    checkDims(dims);
    MatryoshkaTruncation truncation = new MatryoshkaTruncation(dims);
    float[][] vectors = model.embed(batch);
    List<Embedding> embeddings = new ArrayList<>(batch.size());
    for (int k = 0; k < vectors.length; k++) {
      TokenizedText text = batch.get(k);
      embeddings.add(new Embedding(truncation.apply(vectors[k]), text.length(), text.truncated(), fingerprint));
    }
    return embeddings;
  }

  private void checkDims(int dims) {
    if (dims < 1 || dims > model.dims()) {
      throw new IllegalArgumentException(
          "dims must be between 1 and " + model.dims() + " for model [" + directory.root() + "], got " + dims);
    }
  }

  /**
   * Closes the session and the tokenizer and gives the native memory they held back to the
   * operating system, so that a process which replaces models keeps the memory of one copy.
   */
  @Override
  public void close() {
    try {
      model.close();
    } finally {
      try {
        tokenizer.close();
      } finally {
        NativeRuntime.releaseFreedNativeMemory();
      }
    }
  }
}
