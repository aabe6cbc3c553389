package org.embeddinggemma.elasticsearch.search;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import org.elasticsearch.common.cache.Cache;
import org.elasticsearch.common.cache.CacheBuilder;
import org.elasticsearch.common.cache.RemovalNotification;
import org.embeddinggemma.elasticsearch.ElementType;
import org.embeddinggemma.elasticsearch.PromptSpec;
import org.embeddinggemma.elasticsearch.action.EmbedAction;

/**
 * This node's query embeddings, so that a repeated search skips the model run. Keyed by everything
 * that changes the vector; bounded in bytes ({@code embedding_gemma.query_cache.size}); emptied of a
 * model's entries when that model is reloaded. A size of zero turns it off.
 */
public final class QueryEmbeddingCache {

  /** Everything that changes a query's vector; {@code modelId} is resolved (never null). */
  public record Key(String modelId, String text, String title, PromptSpec prompt, Integer dims, ElementType elementType) {}

  /** Bytes counted for an entry besides its text and vector: the key, the result and the cache's own. */
  static final long ENTRY_OVERHEAD_BYTES = 256;

  private final long maxBytes;
  private final Cache<Key, EmbedAction.Result> cache;
  // Counted here rather than read from Cache#stats, whose type Elasticsearch 9.2 renamed.
  private final LongAdder hits = new LongAdder();
  private final LongAdder misses = new LongAdder();
  private final LongAdder evictions = new LongAdder();

  /** A cache of at most {@code maxBytes}; none when it is 0. */
  public QueryEmbeddingCache(long maxBytes) {
    if (maxBytes < 0) {
      throw new IllegalArgumentException("maxBytes must be 0 or more, got " + maxBytes);
    }
    this.maxBytes = maxBytes;
    this.cache =
        maxBytes == 0
            ? null
            : CacheBuilder.<Key, EmbedAction.Result>builder()
                .setMaximumWeight(maxBytes)
                .weigher(QueryEmbeddingCache::weight)
                .removalListener(this::removed)
                .build();
  }

  private static long weight(Key key, EmbedAction.Result result) {
    long text = 2L * key.text().length() + (key.title() == null ? 0 : 2L * key.title().length());
    return ENTRY_OVERHEAD_BYTES + text + 4L * result.vector().length;
  }

  private void removed(RemovalNotification<Key, EmbedAction.Result> notification) {
    if (notification.getRemovalReason() == RemovalNotification.RemovalReason.EVICTED) {
      evictions.increment();
    }
  }

  /** The cached result, or null; a copy, since search may normalise the vector it is given. */
  public EmbedAction.Result get(Key key) {
    if (cache == null) {
      return null;
    }
    EmbedAction.Result result = cache.get(key);
    (result == null ? misses : hits).increment();
    return result == null ? null : copy(result);
  }

  /** Remembers a result. */
  public void put(Key key, EmbedAction.Result result) {
    if (cache != null) {
      cache.put(key, copy(result));
    }
  }

  private static EmbedAction.Result copy(EmbedAction.Result result) {
    return new EmbedAction.Result(result.vector().clone(), result.tokens(), result.truncated(), result.fingerprint());
  }

  /** Forgets the entries of one model, whose files may have changed. */
  public void invalidateModel(String modelId) {
    if (cache == null) {
      return;
    }
    List<Key> stale = new ArrayList<>();
    for (Key key : cache.keys()) {
      if (key.modelId().equals(modelId)) {
        stale.add(key);
      }
    }
    stale.forEach(cache::invalidate);
  }

  /** Size and counters, as {@code _stats} renders them. */
  public Map<String, Object> stats() {
    Map<String, Object> stats = new LinkedHashMap<>();
    stats.put("entries", cache == null ? 0 : cache.count());
    stats.put("memory_in_bytes", cache == null ? 0 : cache.weight());
    stats.put("limit_in_bytes", maxBytes);
    stats.put("hits", hits.sum());
    stats.put("misses", misses.sum());
    stats.put("evictions", evictions.sum());
    return stats;
  }
}
