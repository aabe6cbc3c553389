package org.embeddinggemma.cli;

import com.google.gson.JsonPrimitive;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.embeddinggemma.engine.ChunkingSettings;
import org.embeddinggemma.engine.EmbedderSettings;
import org.embeddinggemma.engine.Embedding;
import org.embeddinggemma.engine.EmbeddingInput;
import org.embeddinggemma.engine.ModelLoadException;
import org.embeddinggemma.engine.Passage;
import org.embeddinggemma.engine.PromptTemplate;
import org.embeddinggemma.engine.Task;
import org.embeddinggemma.engine.TextChunker;
import org.embeddinggemma.engine.TextEmbedder;

/**
 * {@code embed}: reads one text per line on standard input and writes one JSON object per line on
 * standard output, {@code {"vector":[...],"tokens":N,"truncated":bool}}, with the same code path
 * as the Lucene fields and the Elasticsearch plugin. A blank line gets {@code {"error":"..."}} in
 * its place, and the exit status is then 1.
 */
public final class EmbedCommand {

  static final String USAGE =
      """
      usage: embed --model DIR [--task TASK | --prompt PROMPT] [--title TITLE] [--dims N] [--int8]
                   [--threads N] [--batch-size N] [--batch-tokens N]
                   [--chunk sentence|tokens [--chunk-tokens N] [--chunk-overlap N] [--max-passages N]
                    [--keep-first-passages]]
        --model DIR      model directory (onnx/model.onnx or model.onnx, and tokenizer.json)
        --task TASK      document (default), query, question_answering, fact_checking,
                         classification, clustering, sentence_similarity, code_retrieval, or none
        --prompt PROMPT  a custom prompt instead of the task's ({title} is replaced by --title)
        --title TITLE    title for the document prompt (default: none)
        --dims N         Matryoshka dims, 1 to the model's (default: the model's default)
        --int8           write the int8 vector for byte fields instead of floats
        --threads N      ONNX Runtime threads (default: available processors)
        --batch-size N   texts per inference (default: 16)
        --batch-tokens N padded tokens per inference, texts x longest text (default: 8192)
        --chunk S        split each text into passages: whole sentences or token windows
        --chunk-tokens N most tokens per passage, prompt and special tokens included (default: 256)
        --chunk-overlap N sentences (sentence) or tokens (tokens) repeated (default: 1 or 0)
        --max-passages N most passages per text; past it the line fails (default: 100)
        --keep-first-passages  past --max-passages keep the first ones and say "limited":true
      Reads one text per line on stdin; writes {"vector":[...],"tokens":N,"truncated":bool} per line,
      or with --chunk {"passages":[{"start":S,"end":E,"tokens":N,"vector":[...]},...],"limited":bool}.
      """;

  private EmbedCommand() {}

  /**
   * Runs the command.
   *
   * @return 0 on success, 1 if a line or the model failed, 2 for a usage error
   */
  public static int run(String[] args, InputStream in, OutputStream out, PrintStream err) {
    Options options;
    try {
      options = Options.parse(args);
    } catch (IllegalArgumentException e) {
      err.println("embed: " + e.getMessage());
      err.print(USAGE);
      return 2;
    }
    if (options.help) {
      err.print(USAGE);
      return 0;
    }
    EmbedderSettings settings = new EmbedderSettings(options.threads, options.batchSize, options.batchTokens);
    try (TextEmbedder embedder = TextEmbedder.open(options.model, settings)) {
      PromptTemplate prompt =
          options.prompt != null
              ? PromptTemplate.custom(options.prompt)
              : options.task == null ? PromptTemplate.NONE : embedder.prompt(options.task);
      int dims = options.dims == null ? embedder.defaultDims() : options.dims;
      if (dims < 1 || dims > embedder.modelDims()) {
        err.println("embed: --dims must be between 1 and " + embedder.modelDims() + " for this model, got " + dims);
        return 2;
      }
      if (options.chunking != null && options.chunking.maxTokens() > embedder.maxTokens()) {
        err.println("embed: --chunk-tokens must be at most the " + embedder.maxTokens() + " tokens this model takes, got " + options.chunking.maxTokens());
        return 2;
      }
      err.println("embed: " + GraphDescription.of(embedder));
      return embedLines(embedder, prompt, options, dims, in, out);
    } catch (ModelLoadException e) {
      err.println("embed: " + e.getMessage());
      return 1;
    }
  }

  /** The most lines sorted and embedded together. */
  static final int CHUNK_LINES = 2048;

  /** The most characters sorted and embedded together (about 8 MB of text). */
  static final long CHUNK_CHARACTERS = 4_000_000;

  private static int embedLines(
      TextEmbedder embedder, PromptTemplate prompt, Options options, int dims, InputStream in, OutputStream out) {
    int status = 0;
    BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
    Writer writer = new OutputStreamWriter(out, StandardCharsets.UTF_8);
    try {
      List<String> lines = new ArrayList<>();
      long characters = 0;
      int lineNumber = 0;
      String line;
      // The engine sorts each chunk by length, so that batches pad little: the larger the chunk, the
      // less padding. Bounded, so that memory stays flat and output keeps coming for any input size.
      while (true) {
        line = reader.readLine();
        if (line != null) {
          lines.add(line);
          characters += line.length();
        }
        if (lines.size() == CHUNK_LINES || characters >= CHUNK_CHARACTERS || (line == null && !lines.isEmpty())) {
          status |= writeChunk(embedder, prompt, options, dims, lines, lineNumber, writer);
          lineNumber += lines.size();
          lines.clear();
          characters = 0;
          writer.flush();
        }
        if (line == null) {
          break;
        }
      }
      writer.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return status;
  }

  private static int writeChunk(
      TextEmbedder embedder, PromptTemplate prompt, Options options, int dims, List<String> lines, int firstLine, Writer writer)
      throws IOException {
    if (options.chunking != null) {
      return writePassages(embedder, prompt, options, dims, lines, firstLine, writer);
    }
    List<EmbeddingInput> inputs = new ArrayList<>();
    for (String text : lines) {
      if (!text.isBlank()) {
        inputs.add(new EmbeddingInput(text, prompt, options.title));
      }
    }
    List<Embedding> embeddings = embedder.embed(inputs, dims);
    int next = 0;
    int status = 0;
    for (int i = 0; i < lines.size(); i++) {
      if (lines.get(i).isBlank()) {
        writer.write("{\"error\":\"line " + (firstLine + i + 1) + " is empty: nothing to embed\"}\n");
        status = 1;
      } else {
        writer.write(toJson(embeddings.get(next++), options.int8));
      }
    }
    return status;
  }

  /** Each line's passages, all embedded together in length-sorted batches. */
  private static int writePassages(
      TextEmbedder embedder, PromptTemplate prompt, Options options, int dims, List<String> lines, int firstLine, Writer writer)
      throws IOException {
    TextChunker chunker = new TextChunker(embedder, options.chunking);
    List<TextChunker.Chunks> chunks = new ArrayList<>();
    List<String> errors = new ArrayList<>();
    List<EmbeddingInput> inputs = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      try {
        TextChunker.Chunks lineChunks = chunker.chunk(lines.get(i), prompt, options.title);
        chunks.add(lineChunks);
        errors.add(null);
        inputs.addAll(lineChunks.inputs(lines.get(i), prompt, options.title));
      } catch (IllegalArgumentException e) {
        chunks.add(null);
        errors.add("line " + (firstLine + i + 1) + ": " + e.getMessage());
      }
    }
    List<Embedding> embeddings = inputs.isEmpty() ? List.of() : embedder.embed(inputs, dims);
    int next = 0;
    int status = 0;
    for (int i = 0; i < lines.size(); i++) {
      if (errors.get(i) != null) {
        writer.write("{\"error\":" + new JsonPrimitive(errors.get(i)) + "}\n");
        status = 1;
        continue;
      }
      StringBuilder json = new StringBuilder("{\"passages\":[");
      List<Passage> passages = chunks.get(i).passages();
      for (int p = 0; p < passages.size(); p++) {
        json.append(p == 0 ? "" : ",")
            .append("{\"start\":").append(passages.get(p).start())
            .append(",\"end\":").append(passages.get(p).end())
            .append(",\"tokens\":").append(passages.get(p).tokens())
            .append(',');
        appendVector(json, embeddings.get(next++), options.int8).append('}');
      }
      writer.write(json.append("],\"limited\":").append(chunks.get(i).limited()).append("}\n").toString());
    }
    return status;
  }

  static String toJson(Embedding embedding, boolean int8) {
    StringBuilder json = new StringBuilder(embedding.dims() * 12).append('{');
    return appendVector(json, embedding, int8)
        .append(",\"tokens\":")
        .append(embedding.tokenCount())
        .append(",\"truncated\":")
        .append(embedding.truncated())
        .append("}\n")
        .toString();
  }

  /** Appends {@code "vector":[...]}, int8 or float. */
  private static StringBuilder appendVector(StringBuilder json, Embedding embedding, boolean int8) {
    json.append("\"vector\":[");
    if (int8) {
      byte[] vector = embedding.int8Vector();
      for (int i = 0; i < vector.length; i++) {
        json.append(i == 0 ? "" : ",").append(vector[i]);
      }
    } else {
      float[] vector = embedding.vector();
      for (int i = 0; i < vector.length; i++) {
        json.append(i == 0 ? "" : ",").append(vector[i]);
      }
    }
    return json.append(']');
  }

  /** Parsed command-line options. */
  static final class Options {
    Path model;
    Task task = Task.DOCUMENT;
    String prompt;
    String title;
    Integer dims;
    boolean int8;
    boolean help;
    int threads = EmbedderSettings.DEFAULTS.intraOpThreads();
    int batchSize = EmbedderSettings.DEFAULTS.maxBatchSize();
    int batchTokens = EmbedderSettings.DEFAULTS.tokenBudget();
    ChunkingSettings chunking;

    static Options parse(String[] args) {
      Options options = new Options();
      boolean taskGiven = false;
      ChunkingSettings.Strategy strategy = null;
      int chunkTokens = ChunkingSettings.DEFAULT_MAX_TOKENS;
      Integer overlap = null;
      int maxPassages = ChunkingSettings.DEFAULT_MAX_PASSAGES;
      boolean keepFirst = false;
      CommandLine line = new CommandLine(args);
      while (line.hasNext()) {
        String arg = line.next();
        switch (arg) {
          case "-h", "--help" -> options.help = true;
          case "--int8" -> options.int8 = true;
          case "--model" -> options.model = Path.of(line.value(arg));
          case "--task" -> {
            String task = line.value(arg);
            options.task = task.equals("none") ? null : Task.fromName(task);
            taskGiven = true;
          }
          case "--prompt" -> options.prompt = line.value(arg);
          case "--title" -> options.title = line.value(arg);
          case "--dims" -> options.dims = line.positive(arg);
          case "--threads" -> options.threads = line.positive(arg);
          case "--batch-size" -> options.batchSize = line.positive(arg);
          case "--batch-tokens" -> options.batchTokens = line.positive(arg);
          case "--chunk" -> strategy = ChunkingSettings.Strategy.fromName(line.value(arg));
          case "--chunk-tokens" -> chunkTokens = line.positive(arg);
          case "--chunk-overlap" -> overlap = line.atLeast(0, arg);
          case "--max-passages" -> maxPassages = line.positive(arg);
          case "--keep-first-passages" -> keepFirst = true;
          default -> throw new IllegalArgumentException("unknown argument [" + arg + "]");
        }
      }
      if (strategy != null) {
        options.chunking =
            new ChunkingSettings(strategy, chunkTokens, overlap != null ? overlap : strategy == ChunkingSettings.Strategy.SENTENCE ? 1 : 0, maxPassages, keepFirst);
      } else if (chunkTokens != ChunkingSettings.DEFAULT_MAX_TOKENS || overlap != null || maxPassages != ChunkingSettings.DEFAULT_MAX_PASSAGES || keepFirst) {
        throw new IllegalArgumentException("--chunk-tokens, --chunk-overlap, --max-passages and --keep-first-passages need --chunk");
      }
      if (options.help) {
        return options;
      }
      if (options.model == null) {
        throw new IllegalArgumentException("--model is required");
      }
      if (taskGiven && options.prompt != null) {
        throw new IllegalArgumentException("--task and --prompt cannot be used together");
      }
      return options;
    }
  }
}
