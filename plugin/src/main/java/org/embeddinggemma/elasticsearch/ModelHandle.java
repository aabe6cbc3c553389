package org.embeddinggemma.elasticsearch;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.LongSupplier;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.elasticsearch.action.ActionListener;
import org.embeddinggemma.engine.ModelLoadException;
import org.embeddinggemma.engine.TextEmbedder;

/**
 * One model id on this node and the state of its files: not installed, loading, loaded or failed.
 *
 * <p>Nothing here blocks: a model loads in the background on {@code loader}, with {@code opener},
 * and callers are called back when it is ready. A failed load is remembered, logged once and
 * reported to every caller, until the model's files change (checked at most once a second) or a
 * reload is asked for; a missing model is looked for again the same way, so that copying the files
 * in heals every pipeline that uses it without touching the pipeline. A reload loads a second copy
 * and swaps it in: work in flight finishes on the old {@link LoadedModel}, which closes once the
 * last of it is done.
 */
public final class ModelHandle {

  private static final Logger logger = LogManager.getLogger(ModelHandle.class);

  /** How often, at most, the files of a missing or broken model are looked at again. */
  static final long RECHECK_NANOS = TimeUnit.SECONDS.toNanos(1);

  /** Where a model is. */
  public enum State {
    NOT_INSTALLED,
    LOADING,
    LOADED,
    FAILED;

    /** The name in {@code _stats}. */
    public String externalName() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  private final String id;
  private final ModelFiles files;
  private final Function<Path, TextEmbedder> opener;
  private final Executor loader;
  private final LongSupplier nanoTime;

  private State state;
  private LoadedModel current;
  private RuntimeException failure;
  private String failedFiles;
  private long checkedAt;
  private boolean checked;
  private final List<Runnable> waiting = new ArrayList<>();

  /**
   * @param opener loads the model from its folder; may throw anything, {@link Error}s included
   * @param loader where loads run
   */
  ModelHandle(String id, Path directory, Function<Path, TextEmbedder> opener, Executor loader) {
    this(id, directory, opener, loader, System::nanoTime);
  }

  /** As the public constructor, with a clock for the re-check interval. */
  ModelHandle(String id, Path directory, Function<Path, TextEmbedder> opener, Executor loader, LongSupplier nanoTime) {
    this.id = id;
    this.files = new ModelFiles(directory);
    this.opener = opener;
    this.loader = loader;
    this.nanoTime = nanoTime;
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

  /** The loaded copy, which the caller must {@link LoadedModel#release()}, or null if none is loaded. */
  public synchronized LoadedModel tryAcquire() {
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

  /** Why the model cannot be used now, for clients: not installed (404), failed to load or loading (409). */
  public synchronized RuntimeException unavailable() {
    if (state == State.NOT_INSTALLED || state == null) {
      return ModelErrors.notInstalled(id);
    }
    if (state == State.FAILED) {
      return ModelErrors.cannotLoad(id, files.directory(), failure);
    }
    return ModelErrors.notReady(id, state);
  }

  /**
   * Loads the model's files again, even if loaded, and swaps the new copy in when it is ready. If
   * the new files do not load, a loaded copy stays in use and the listener gets the failure.
   */
  public void reload(ActionListener<TextEmbedder> listener) {
    synchronized (this) {
      checkedAt = nanoTime.getAsLong();
      checked = true;
      if (!files.installed()) {
        state = current == null ? State.NOT_INSTALLED : state;
        listener.onFailure(ModelErrors.notInstalled(id));
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
    long now = nanoTime.getAsLong();
    if (checked && now - checkedAt < RECHECK_NANOS) {
      return;
    }
    checked = true;
    checkedAt = now;
    if (!files.installed()) {
      state = State.NOT_INSTALLED;
      return;
    }
    if (state == State.FAILED && files.snapshot().equals(failedFiles)) {
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
    long start = nanoTime.getAsLong();
    String snapshot = files.snapshot();
    TextEmbedder embedder = null;
    RuntimeException error = null;
    try {
      embedder = opener.apply(files.directory());
      logger.info(
          "loaded model [{}] from [{}] in [{}ms]: {} dims, {} max tokens ({}), batches of up to {} texts and {} padded tokens",
          id, embedder.directory().graph(), (nanoTime.getAsLong() - start) / 1_000_000,
          embedder.modelDims(), embedder.maxTokens(), embedder.window().source(), embedder.maxBatchSize(),
          embedder.planner().tokenBudget());
    } catch (Throwable t) {
      if (t instanceof VirtualMachineError fatal) {
        throw fatal;
      }
      error = t instanceof RuntimeException runtime ? runtime : new ModelLoadException("cannot load model [" + files.directory() + "]", t);
      // Once per broken set of files, with all the detail: the node does not retry until they change.
      RuntimeException logged = error;
      logger.warn(() -> "cannot load model [" + id + "]: " + logged.getMessage(), logged);
    }
    synchronized (this) {
      failedFiles = error == null ? null : snapshot;
    }
    finish(embedder, error, listener);
  }

  private void finish(TextEmbedder embedder, RuntimeException error, ActionListener<TextEmbedder> listener) {
    List<Runnable> settled;
    LoadedModel replaced = null;
    synchronized (this) {
      if (embedder != null) {
        replaced = current;
        current = new LoadedModel(embedder);
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
      listener.onFailure(ModelErrors.cannotLoad(id, files.directory(), error));
    }
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
