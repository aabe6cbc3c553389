package org.embeddinggemma.elasticsearch;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.elasticsearch.ElasticsearchStatusException;
import org.elasticsearch.ResourceNotFoundException;
import org.elasticsearch.action.ActionListener;
import org.elasticsearch.rest.RestStatus;
import org.embeddinggemma.engine.EmbedderSettings;
import org.embeddinggemma.engine.ModelLoadException;
import org.embeddinggemma.engine.TextEmbedder;

/**
 * One model id on this node and the state of its files: not installed, loading, loaded or failed.
 *
 * <p>Nothing here blocks: a model loads in the background on the plugin's pool, and callers are
 * called back when it is ready. A failed load is remembered, logged once and reported to every
 * caller, until the model's files change (checked at most once a second) or a reload is asked for;
 * a missing model is looked for again the same way, so that copying the files in heals every
 * pipeline that uses it without touching the pipeline. A reload loads a second copy and swaps it in:
 * work in flight finishes on the old copy, which is closed once the last of it is done.
 */
public final class ModelHandle {

  private static final Logger logger = LogManager.getLogger(ModelHandle.class);

  private static final long RECHECK_NANOS = TimeUnit.SECONDS.toNanos(1);

  /** Where a model is. */
  public enum State {
    NOT_INSTALLED,
    LOADING,
    LOADED,
    FAILED;

    /** The name in {@code _stats}. */
    public String externalName() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  private final String id;
  private final Path directory;
  private final EmbedderSettings settings;
  private final Executor loader;

  private State state;
  private Loaded current;
  private RuntimeException failure;
  private String failedFiles;
  private long checkedAt;
  private boolean checked;
  private final List<Runnable> waiting = new ArrayList<>();

  ModelHandle(String id, Path directory, EmbedderSettings settings, Executor loader) {
    this.id = id;
    this.directory = directory;
    this.settings = settings;
    this.loader = loader;
  }

  /** A loaded copy of the model, closed when its handle and everyone using it have let it go. */
  public static final class Loaded {
    private final TextEmbedder embedder;
    private final AtomicInteger references = new AtomicInteger(1);

    private Loaded(TextEmbedder embedder) {
      this.embedder = embedder;
    }

    /** The engine. */
    public TextEmbedder embedder() {
      return embedder;
    }

    private boolean tryAcquire() {
      for (int count = references.get(); count > 0; count = references.get()) {
        if (references.compareAndSet(count, count + 1)) {
          return true;
        }
      }
      return false;
    }

    /** Lets go of the copy; the last one out closes it. */
    public void release() {
      if (references.decrementAndGet() == 0) {
        embedder.close();
      }
    }
  }

  /** The model id. */
  public String id() {
    return id;
  }

  /** The state after looking at the files again if it is due, starting a load if there is one to start. */
  public synchronized State state() {
    refresh();
    return state;
  }

  /**
   * The state as last seen, without looking at the files or starting a load: for reporting. Null if
   * nothing has asked for the model yet.
   */
  public synchronized State lastState() {
    return state;
  }

  /** Starts loading the model in the background if it is installed and not loaded, loading or known broken. */
  public synchronized void ensureLoading() {
    refresh();
  }

  /**
   * The loaded model, which the caller must {@link Loaded#release()}, or null if it is not loaded.
   */
  public synchronized Loaded tryAcquire() {
    refresh();
    return state == State.LOADED && current.tryAcquire() ? current : null;
  }

  /** The loaded engine, or null: for reading its properties, not for embedding. */
  public synchronized TextEmbedder loadedEmbedder() {
    return state == State.LOADED ? current.embedder() : null;
  }

  /**
   * Runs {@code action} once the model is no longer loading (at once if it is not), on the thread
   * that finished the load.
   */
  public void whenSettled(Runnable action) {
    synchronized (this) {
      refresh();
      if (state == State.LOADING) {
        waiting.add(action);
        return;
      }
    }
    action.run();
  }

  /** Why the model cannot be used now: not installed (404) or failed to load (409). */
  public synchronized RuntimeException unavailable() {
    if (state == State.NOT_INSTALLED || state == null) {
      return notInstalled();
    }
    if (state == State.FAILED) {
      return new ElasticsearchStatusException(
          "model [" + id + "] cannot be loaded: " + failure.getMessage()
              + "; fix its files (the node tries again when they change) or call POST _embedding_gemma/_reload",
          RestStatus.CONFLICT);
    }
    return new ElasticsearchStatusException("model [" + id + "] is " + state.externalName(), RestStatus.CONFLICT);
  }

  private ResourceNotFoundException notInstalled() {
    return new ResourceNotFoundException(
        "model [" + id + "] is not installed on this node: no folder [" + ModelRegistry.MODELS_FOLDER + "/" + id
            + "] in its config directory");
  }

  /** The failure's message, or null. */
  public synchronized String failureMessage() {
    return state == State.FAILED ? failure.getMessage() : null;
  }

  /**
   * Loads the model's files again, even if loaded, and swaps the new copy in when it is ready. If
   * the new files do not load, a loaded copy stays in use and the listener gets the failure.
   */
  public void reload(ActionListener<TextEmbedder> listener) {
    synchronized (this) {
      checkedAt = System.nanoTime();
      checked = true;
      if (!Files.isDirectory(directory)) {
        state = current == null ? State.NOT_INSTALLED : state;
        listener.onFailure(notInstalled());
        return;
      }
      if (state != State.LOADED) {
        state = State.LOADING;
      }
    }
    startLoad(listener);
  }

  private void refresh() {
    if (state == State.LOADED || state == State.LOADING) {
      return;
    }
    long now = System.nanoTime();
    if (checked && now - checkedAt < RECHECK_NANOS) {
      return;
    }
    checked = true;
    checkedAt = now;
    if (!Files.isDirectory(directory)) {
      state = State.NOT_INSTALLED;
      return;
    }
    if (state == State.FAILED && files().equals(failedFiles)) {
      return;
    }
    state = State.LOADING;
    startLoad(ActionListener.noop());
  }

  private void startLoad(ActionListener<TextEmbedder> listener) {
    try {
      loader.execute(() -> load(listener));
    } catch (RuntimeException e) {
      finish(null, new IllegalStateException("cannot start loading model [" + id + "]: " + e.getMessage(), e), listener);
    }
  }

  private void load(ActionListener<TextEmbedder> listener) {
    long start = System.nanoTime();
    String files = files();
    TextEmbedder embedder = null;
    RuntimeException error = null;
    try {
      embedder = TextEmbedder.open(directory, settings);
      logger.info(
          "loaded model [{}] from [{}] in [{}ms]: {} dims, {} max tokens, batches of up to {}",
          id, embedder.directory().graph(), (System.nanoTime() - start) / 1_000_000,
          embedder.modelDims(), embedder.maxTokens(), embedder.maxBatchSize());
    } catch (Throwable t) {
      if (t instanceof VirtualMachineError fatal) {
        throw fatal;
      }
      error = t instanceof RuntimeException runtime ? runtime : new ModelLoadException("cannot load model [" + id + "]", t);
      // Once per broken set of files: the node does not retry until they change.
      logger.warn("cannot load model [{}]: {}", id, error.getMessage());
    }
    synchronized (this) {
      failedFiles = error == null ? null : files;
    }
    finish(embedder, error, listener);
  }

  private void finish(TextEmbedder embedder, RuntimeException error, ActionListener<TextEmbedder> listener) {
    List<Runnable> settled;
    Loaded replaced = null;
    synchronized (this) {
      if (embedder != null) {
        replaced = current;
        current = new Loaded(embedder);
        state = State.LOADED;
        failure = null;
      } else if (current == null) {
        state = State.FAILED;
        failure = error;
      }
      settled = new ArrayList<>(waiting);
      waiting.clear();
    }
    if (replaced != null) {
      replaced.release();
    }
    for (Runnable action : settled) {
      try {
        action.run();
      } catch (RuntimeException e) {
        logger.warn("a task waiting for model [" + id + "] failed", e);
      }
    }
    if (embedder != null) {
      listener.onResponse(embedder);
    } else {
      listener.onFailure(error);
    }
  }

  /** Names, sizes and modification times of the model's files: what tells that they changed. */
  private String files() {
    StringBuilder files = new StringBuilder();
    try (Stream<Path> paths = Files.walk(directory, 3)) {
      paths.sorted().forEach(path -> {
        try {
          BasicFileAttributes attributes = Files.readAttributes(path, BasicFileAttributes.class);
          files.append(directory.relativize(path)).append(' ').append(attributes.size()).append(' ')
              .append(attributes.lastModifiedTime().toMillis()).append('\n');
        } catch (IOException e) {
          files.append(path).append(" unreadable\n");
        }
      });
    } catch (IOException | RuntimeException e) {
      files.append("unlistable: ").append(e.getMessage());
    }
    return files.toString();
  }

  /** Closes the loaded copy once work in flight is done. */
  synchronized void close() {
    if (current != null) {
      current.release();
      current = null;
    }
    state = null;
  }
}
